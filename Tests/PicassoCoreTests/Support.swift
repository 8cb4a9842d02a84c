import Foundation
import PicassoCore
import Testing

/// Paths the tests read: the package root, the VGG weights that setup makes, and the shared
/// fixtures (an independent implementation's numbers) beside the checkout.
enum Paths {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path
  static let vgg = root + "/Models/vgg19.h5"
  static let fixtures = root + "/../shared/fixtures"
  static let data = root + "/../shared/data"
  static var haveFixtures: Bool { FileManager.default.fileExists(atPath: fixtures + "/fixtures.json") }
  static var haveData: Bool { FileManager.default.fileExists(atPath: data + "/photos") }
}

/// The VGG19 weights must exist (Scripts/setup.sh makes them): a missing file fails loudly.
func requireVGG(taps: [String], pooling: Pool2D.Kind = .max) throws -> VGG {
  guard FileManager.default.fileExists(atPath: Paths.vgg) else {
    Issue.record("Models/vgg19.h5 is missing: run Scripts/setup.sh")
    throw PicassoError.file(Paths.vgg, "missing")
  }
  return try VGG(weightsFile: Paths.vgg, taps: taps, pooling: pooling)
}

/// A temporary folder for one test, removed when the test's `defer` calls `remove()`.
struct TemporaryFolder {
  let path: String
  init() {
    path = NSTemporaryDirectory() + "picasso-test-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  func remove() { try? FileManager.default.removeItem(atPath: path) }
  func file(_ name: String) -> String { path + "/" + name }
}

/// A tensor of the given shape filled from SplitMix64 with values in [lo, hi).
func randomTensor(_ shape: [Int], seed: UInt64, lo: Float = -1, hi: Float = 1) -> Tensor {
  var rng = SplitMix64(seed: seed)
  let t = Tensor(shape: shape)
  for i in 0..<t.count { t.data[i] = lo + (hi - lo) * rng.unit() }
  return t
}

/// |a − b| ≤ tol·max(|a|, |b|, floor)
func isClose(_ a: Double, _ b: Double, rel tol: Double, floor: Double = 1e-12) -> Bool {
  abs(a - b) <= tol * max(abs(a), abs(b), floor)
}

/// Largest |a − b| over two buffers, relative to the largest |b|.
func maxRelativeDifference(_ a: UnsafeBufferPointer<Float>, _ b: [Float]) -> Double {
  precondition(a.count == b.count)
  var diff = 0.0, scale = 0.0
  for i in 0..<b.count {
    diff = max(diff, Double(abs(a[i] - b[i])))
    scale = max(scale, Double(abs(b[i])))
  }
  return diff / max(scale, 1e-30)
}

/// What a run of the `picasso` executable printed and returned.
struct PicassoRun {
  var status: Int32
  var stdout: String
  var stderr: String
}

/// The built `picasso` beside this test bundle (swift test builds it first).
let picassoExecutable: String = {
  let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("picasso").path
}()

/// Runs `picasso` with arguments (and extra environment) as a user would.
func runPicasso(_ arguments: [String], environment: [String: String] = [:]) throws -> PicassoRun {
  try runProgram(picassoExecutable, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
}

/// Runs a program with arguments and the whole environment given, collecting its output.
func runProgram(_ path: String, _ arguments: [String], environment: [String: String]) throws -> PicassoRun {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: path)
  process.arguments = arguments
  process.environment = environment
  let out = Pipe(), err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return PicassoRun(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

/// The line of a run's stderr that carries its error (empty if none).
func errorLine(_ run: PicassoRun) -> String {
  run.stderr.split(separator: "\n").first { $0.lowercased().contains("error") }.map(String.init) ?? ""
}

/// Runs picasso with `arguments` and expects a failure whose error line mentions each of
/// `mentions`.
func expectPicassoError(_ arguments: [String], mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
  let r = try runPicasso(arguments)
  #expect(r.status != 0, "\(arguments)", sourceLocation: sourceLocation)
  let line = errorLine(r)
  for m in mentions { #expect(line.contains(m), "'\(line)' should mention '\(m)'", sourceLocation: sourceLocation) }
}
