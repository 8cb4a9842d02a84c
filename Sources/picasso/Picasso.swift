import ArgumentParser
import Foundation
import PicassoCore

@main
struct Picasso: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "picasso",
    abstract: "Paint photos in the style of paintings (neural style transfer on the CPU).",
    discussion: """
      optimize  Gatys et al. 2015: optimise a photo's pixels against VGG19 losses.
      dataset   Turn folders of photos into an HDF5 training set.
      train     Learn a feed-forward filter for one painting (Johnson et al. 2016).
      stylize   Paint photos and folders with a trained filter, one pass each.
      models    List trained models: painting, network, training, losses.
      compare   A model against the slow optimiser: times, losses, a sheet.
      sheet     Put images side by side in a grid.
      export    Write a model as ONNX (onnxruntime, browsers, phones).
      import    Read a fast_neural_style model from PyTorch (.pth).
      bench     Time the hot paths against the machine's GEMM ceiling.
      info      The CPU, its vector extensions and the kernels picasso runs on it.
      """,
    version: PicassoVersion.string,
    subcommands: [Optimize.self, Dataset.self, Train.self, Stylize.self, Models.self, Compare.self, Sheet.self, Export.self, Import.self, Bench.self, Info.self]
  )

  static func main() {
    prepareBLAS()
    main(nil)
  }
}

/// Settings OpenBLAS reads only when it loads, before `main`: the process sets them and starts
/// itself again (once; a failed `execv` just carries on with what it has).
///
/// - `OPENBLAS_THREAD_TIMEOUT`: OpenBLAS's idle worker threads spin on `sched_yield` for about
///   2^28 cycles before they sleep, so on two cores they take turns with our own loops
///   (im2col, instance norm, Adam) between GEMMs: 12 % of a training step went to
///   `__schedule` in `perf`. Measured in one `picasso bench` run: transformer forward at 512²
///   2.16 s → 1.70 s; training step 12.3 s → 10.8 s.
/// - `OPENBLAS_CORETYPE`, only where OpenBLAS chose a fallback kernel for a CPU that can do
///   better (`BLASKernels.coreType`); a user's own setting always wins.
///   `PICASSO_TEST_OPENBLAS_CORE` makes picasso take OpenBLAS's choice to be that core (tests
///   use it to take this path on any machine).
private func prepareBLAS() {
  var restart = false
  if getenv("OPENBLAS_THREAD_TIMEOUT") == nil {
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1)
    restart = true
  }
  let env = ProcessInfo.processInfo.environment
  let picked = env["PICASSO_TEST_OPENBLAS_CORE"] ?? BLASKernels.coreName
  if let core = BLASKernels.coreType(core: picked, features: .current, userChoice: env["OPENBLAS_CORETYPE"],
                                         cpu: BLASKernels.cpuFamily) {
    setenv("OPENBLAS_CORETYPE", core, 1)
    setenv(BLASKernels.replacedVariable, picked, 1)
    restart = true
  }
  if restart { execv("/proc/self/exe", CommandLine.unsafeArgv) }
}

enum PicassoVersion {
  static let string = "0.1.0"
}

/// Prints a one-line error naming what is wrong and exits non-zero; used for every error a
/// user can cause, so no stack trace or Swift error dump reaches them.
func fail(_ error: Error) -> ExitCode {
  let text = "\(error)"
  FileHandle.standardError.write(Data("picasso: error: \(text)\n".utf8))
  return ExitCode.failure
}

/// For bad flags found in `validate()`: prints one line naming the flag and gives exit
/// status 2 (ArgumentParser's own usage errors print the usage too).
func usageError(_ text: String) -> ExitCode {
  FileHandle.standardError.write(Data("picasso: error: \(text)\n".utf8))
  return ExitCode(2)
}

/// Runs a command's body, turning every error a user can cause into `fail`'s one line
/// (exit codes chosen by the body pass through).
func reportingErrors(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let exit as ExitCode {
    throw exit
  } catch {
    throw fail(error)
  }
}

func printErr(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// `--max-pixels`, shared by every command that reads images: a file declaring more pixels
/// is refused before anything is allocated for it (a decompression bomb).
struct ImageLimit: ParsableArguments {
  @Option(help: ArgumentHelp("Refuse images with more pixels than this, before decoding them.", valueName: "n"))
  var maxPixels = RGBImage.defaultMaxPixels

  func validate() throws {
    guard maxPixels >= 1 else { throw ValidationError("--max-pixels must be at least 1.") }
  }

  func apply() { RGBImage.maxPixels = maxPixels }
}

/// The starting image of the Gatys optimiser for `--init`: "content" (a copy of the photo),
/// "random" (grey noise, 0.5 ± 0.15 per value, from `seed`) or the path of an image.
func initialImage(_ initialization: String, content: Tensor, width: Int, height: Int, seed: UInt64) throws -> Tensor {
  switch initialization {
  case "content": return content.clone()
  case "random":
    var rng = SplitMix64(seed: seed)
    let image = Tensor(shape: content.shape)
    for i in 0..<image.count { image.data[i] = min(max(0.5 + 0.15 * rng.normal(), 0), 1) }
    return image
  default:
    return try RGBImage.read(initialization).resized(width: width, height: height).tensor()
  }
}

/// Splits "a,b, c" into ["a", "b", "c"].
func commaList(_ s: String) -> [String] {
  s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

/// Finds the VGG weights: the flag, then $PICASSO_VGG, then Models/vgg19.h5 in the current
/// folder or in a folder above the executable (the package root when run from .build).
func locateVGG(_ flag: String?) throws -> String {
  if let flag {
    guard FileManager.default.fileExists(atPath: flag) else {
      throw PicassoError.file(flag, "VGG weights file not found (create Models/vgg19.h5 with Scripts/setup.sh)")
    }
    return flag
  }
  if let env = ProcessInfo.processInfo.environment["PICASSO_VGG"], !env.isEmpty { return try locateVGG(env) }
  var candidates = ["Models/vgg19.h5"]
  var dir = URL(fileURLWithPath: CommandLine.executablePathResolved).deletingLastPathComponent()
  for _ in 0..<5 {
    candidates.append(dir.appendingPathComponent("Models/vgg19.h5").path)
    dir = dir.deletingLastPathComponent()
  }
  if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
  throw PicassoError.file(
    "Models/vgg19.h5",
    "VGG19 weights not found; create them with Scripts/setup.sh (or pass --vgg FILE, a Keras vgg19/vgg16 notop .h5)")
}

extension CommandLine {
  static var executablePathResolved: String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
  }
}

/// Checks, before minutes of work, that `path` can be written: its folder exists and is
/// writable, and its extension is an image type.
func checkWritableImagePath(_ path: String) throws {
  let ext = (path as NSString).pathExtension.lowercased()
  guard ["png", "jpg", "jpeg"].contains(ext) else {
    throw PicassoError.file(path, "unknown image type '.\(ext)'; use .png or .jpg")
  }
  try checkWritableFile(path)
}

/// Checks that a file can be created at `path` (its folder exists and is writable).
func checkWritableFile(_ path: String) throws {
  let dir = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
  var isDir: ObjCBool = false
  guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
    throw PicassoError.file(path, "the output folder '\(dir)' does not exist")
  }
  guard access(dir, W_OK) == 0 else { throw PicassoError.file(path, "the output folder '\(dir)' is not writable") }
}

/// Ctrl-C and SIGTERM set a flag that long loops check, so they can save their work and stop
/// cleanly instead of dying mid-write; a second signal exits at once.
enum Interrupt {
  nonisolated(unsafe) static var requested = false

  /// The write end of a pipe that the handler writes one byte to (with `install(wake: true)`),
  /// for a thread that must act on the signal at once.
  nonisolated(unsafe) static var wakeFD: Int32 = -1
  nonisolated(unsafe) static var wakeReadFD: Int32 = -1

  static func install(wake: Bool = false) {
    if wake && wakeFD < 0 {
      var fds: [Int32] = [-1, -1]
      if pipe(&fds) == 0 { (wakeReadFD, wakeFD) = (fds[0], fds[1]) }
    }
    let handler: @convention(c) (Int32) -> Void = { signal in
      if Interrupt.requested { _exit(128 + signal) }
      Interrupt.requested = true
      if Interrupt.wakeFD >= 0 {
        var byte: UInt8 = 1
        _ = write(Interrupt.wakeFD, &byte, 1)
      }
    }
    signal(SIGINT, handler)
    signal(SIGTERM, handler)
    // A parent may have started us with these signals blocked (Foundation's Process does):
    // unblock them, or Ctrl-C and SIGTERM would never arrive.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
  }
}
