import Foundation
import PicassoCore
import Testing

/// The `picasso` executable run as a process, as a user runs it: bad input gets a one-line
/// error naming the file and the problem, a non-zero exit, and no output file.
@Suite(.serialized)
struct CommandLineTests {
  func picasso(_ arguments: [String], environment: [String: String] = [:]) throws -> PicassoRun {
    try runPicasso(arguments, environment: environment)
  }

  /// A photo and a painting written by the test itself.
  func samples(_ dir: TemporaryFolder) throws -> (String, String) {
    var a: [UInt8] = [], b: [UInt8] = []
    for y in 0..<40 { for x in 0..<48 {
      a += [UInt8(x * 5), UInt8(y * 6), 120]
      b += [UInt8((x * y) % 256), UInt8((x * 7) % 256), UInt8((y * 11) % 256)]
    } }
    try RGBImage(width: 48, height: 40, pixels: a).write(to: dir.file("photo.png"))
    try RGBImage(width: 48, height: 40, pixels: b).write(to: dir.file("painting.jpg"))
    return (dir.file("photo.png"), dir.file("painting.jpg"))
  }

  /// Runs optimize with one argument changed and checks the error line and the absence of output.
  func expectFailure(_ extra: [String], mentions: [String], env: [String: String] = [:], _ dir: TemporaryFolder,
                     output: String? = nil, withVGGFlag: Bool = true) throws {
    let (photo, painting) = try samples(dir)
    var args = ["optimize", "--content", photo, "--style", painting, "--size", "32", "--iterations", "1",
                "--output", output ?? dir.file("out.png")] + (withVGGFlag ? ["--vgg", Paths.vgg] : [])
    // Later occurrences of an option win in swift-argument-parser; extra arguments override.
    args += extra
    let r = try picasso(args, environment: env)
    #expect(r.status != 0, "exit status for \(extra)")
    let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
    #expect(lines.count >= 1)
    let errorLine = lines.first { $0.contains("rror") } ?? ""
    for m in mentions { #expect(errorLine.contains(m), "'\(errorLine)' should mention '\(m)'") }
    #expect(!FileManager.default.fileExists(atPath: output ?? dir.file("out.png")))
  }

  @Test func helpAndVersion() throws {
    let help = try picasso(["--help"])
    #expect(help.status == 0)
    for command in ["optimize", "dataset", "train", "stylize", "models", "compare", "sheet", "bench", "info"] {
      #expect(help.stdout.contains("\n\(command) "), "--help lists \(command)")
      // Each command's help reads as prose: no stray line-continuation backslashes; and it
      // shows the command in use.
      let commandHelp = try picasso([command, "--help"])
      #expect(commandHelp.status == 0 && !commandHelp.stdout.contains("\\"), "\(command) --help has a stray backslash")
      #expect(commandHelp.stdout.contains("Example") && commandHelp.stdout.contains("picasso \(command)"), "\(command) --help has no example")
    }
    let version = try picasso(["--version"])
    #expect(version.status == 0 && version.stdout.contains("0."))
    let optimizeHelp = try picasso(["optimize", "--help"])
    for flag in ["--content", "--style-blend", "--preserve-color", "--init", "--pooling", "--save-every", "--json"] {
      #expect(optimizeHelp.stdout.contains(flag), "optimize --help lists \(flag)")
    }
  }

  @Test func missingAndNonImageFiles() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    try expectFailure(["--content", dir.file("nope.jpg")], mentions: ["nope.jpg", "no such file"], dir)
    try Data("plain text".utf8).write(to: URL(fileURLWithPath: dir.file("notes.png")))
    try expectFailure(["--style", dir.file("notes.png")], mentions: ["notes.png", "not a PNG or JPEG"], dir)
  }

  @Test func truncatedImages() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let (photo, painting) = try samples(dir)
    let jpg = try Data(contentsOf: URL(fileURLWithPath: painting))
    try jpg.prefix(jpg.count / 2).write(to: URL(fileURLWithPath: dir.file("half.jpg")))
    try expectFailure(["--style", dir.file("half.jpg")], mentions: ["half.jpg", "truncated"], dir)
    let png = try Data(contentsOf: URL(fileURLWithPath: photo))
    try png.prefix(png.count / 2).write(to: URL(fileURLWithPath: dir.file("half.png")))
    try expectFailure(["--content", dir.file("half.png")], mentions: ["half.png", "PNG"], dir)
  }

  @Test func badLayersAndSizes() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    try expectFailure(["--style-layers", "relu1_1,relu9_1"], mentions: ["relu9_1"], dir)
    try expectFailure(["--content-layers", "conv4_2"], mentions: ["conv4_2"], dir)
    try expectFailure(["--size", "0"], mentions: ["--size"], dir)
    try expectFailure(["--size", "1000000"], mentions: ["--size"], dir)
    try expectFailure(["--seed", "3"], mentions: ["--seed", "--init random"], dir)
  }

  @Test func missingVGGWeightsSayHowToMakeThem() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    try expectFailure(["--vgg", dir.file("vgg19.h5")], mentions: ["vgg19.h5", "not found", "Scripts/setup.sh"], dir)
    try expectFailure([], mentions: ["elsewhere.h5", "Scripts/setup.sh"], env: ["PICASSO_VGG": dir.file("elsewhere.h5")],
                      dir, withVGGFlag: false)
  }

  @Test func unwritableOutputFolder() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    try expectFailure([], mentions: ["missing-folder"], dir, output: dir.file("missing-folder/out.png"))
    try FileManager.default.createDirectory(atPath: dir.file("locked"), withIntermediateDirectories: true)
    chmod(dir.file("locked"), 0o555)
    defer { chmod(dir.file("locked"), 0o755) }
    if getuid() != 0 {  // root may write anywhere
      try expectFailure([], mentions: ["locked", "not writable"], dir, output: dir.file("locked/out.png"))
    }
  }

  /// `--init <image>` with 0 iterations reports exactly the losses of that image, and the
  /// JSON has every field the issue names.
  @Test func jsonReportsTheLossesOfTheGivenImage() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let (photo, painting) = try samples(dir)
    let r = try picasso(["optimize", "--content", photo, "--style", painting, "--init", painting, "--size", "48",
                         "--iterations", "0", "--output", dir.file("o.png"), "--vgg", Paths.vgg, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    for key in ["iterations", "seconds", "content_loss", "style_loss", "tv_loss", "total_loss", "initial_total_loss"] {
      #expect(json[key] != nil, "JSON has \(key)")
    }
    #expect(json["iterations"] as? Int == 0)
    #expect(json["total_loss"] as? Double == json["initial_total_loss"] as? Double)
    #expect((json["content_loss"] as! Double) > 0)
    #expect(FileManager.default.fileExists(atPath: dir.file("o.png")))
  }

  /// A few real iterations lower the loss, write intermediate images and the final one.
  @Test func optimizeLowersTheLossAndSavesImages() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let (photo, painting) = try samples(dir)
    for method in ["lbfgs", "adam"] {
      let out = dir.file("\(method).png")
      let r = try picasso(["optimize", "--content", photo, "--style", painting, "--size", "48", "--iterations", "4",
                           "--optimizer", method, "--save-every", "2", "--output", out, "--vgg", Paths.vgg, "--json",
                           "--style-layers", "relu1_1,relu2_1", "--content-layers", "relu2_2", "--preserve-color"])
      #expect(r.status == 0, "\(r.stderr)")
      let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
      #expect((json["total_loss"] as! Double) < (json["initial_total_loss"] as! Double), "\(method) lowers the loss")
      #expect(try RGBImage.read(out).width == 48)
      #expect(FileManager.default.fileExists(atPath: dir.file("\(method)_00002.png")))
    }
  }

  /// `optimize --init x1 --iterations 0 --json` on the fixture images reports the independent
  /// implementation's losses for the same three images (weights 1/30/1, as in the fixtures).
  @Test(.enabled(if: Paths.haveFixtures, "needs ../shared/fixtures"))
  func zeroIterationLossesMatchTheFixtures() throws {
    let f = Paths.fixtures
    let r = try picasso(["optimize", "--content", f + "/img_content.png", "--style", f + "/img_style.png",
                         "--init", f + "/img_gatys_x1.png", "--size", "64", "--iterations", "0",
                         "--content-weight", "1", "--style-weight", "30", "--tv-weight", "1",
                         "--output", NSTemporaryDirectory() + "picasso-x1-\(getpid()).png", "--vgg", Paths.vgg, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    let fixtures = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: f + "/fixtures.json"))) as! [String: Any]
    let ref = ((fixtures["gatys"] as! [String: Any])["points"] as! [String: Any])["x1"] as! [String: Any]
    let f64 = ref["float64"] as! [String: Any]
    for (key, term) in [("total_loss", "total"), ("content_loss", "content"), ("style_loss", "style"), ("tv_loss", "tv")] {
      let expected = (f64[term] as! [String: Any])["value"] as! Double
      let got = json[key] as! Double
      #expect(isClose(got, expected, rel: 1e-4), "\(key): \(got) vs \(expected)")
    }
    try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "picasso-x1-\(getpid()).png")
  }
}
