import Foundation
import PicassoCore
import Testing

/// `mpirun -np N picasso train …` (Open MPI, installed by Scripts/setup.sh): each rank takes
/// its share of every batch and the gradients are summed, so a job trains the model one
/// process would.
@Suite(.serialized)
struct MPITrainingTests {
  static let mpirunPath = "/usr/bin/mpirun"

  /// Runs picasso under `mpirun --oversubscribe -np n` (as root where the tests run as root).
  func mpirun(_ n: Int, _ arguments: [String]) throws -> PicassoRun {
    #expect(FileManager.default.isExecutableFile(atPath: Self.mpirunPath), "Open MPI is missing: run Scripts/setup.sh")
    return try runProgram(Self.mpirunPath, ["--oversubscribe", "-np", "\(n)", picassoExecutable] + arguments, environment: Self.environment)
  }

  /// The tests' environment, allowed to run mpirun as root; under AddressSanitizer the leak
  /// check is left out (Open MPI keeps its allocations until the process ends).
  static var environment: [String: String] {
    var env = ProcessInfo.processInfo.environment
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env["ASAN_OPTIONS"] = (env["ASAN_OPTIONS"].map { $0 + ":" } ?? "") + "detect_leaks=0"
    return env
  }

  /// A dataset of 32 px photos and the arguments of a small run on it (batch 4).
  func setUp(_ dir: TemporaryFolder) throws -> [String] {
    let folder = try TrainingTests.photos(dir, count: 9)
    let r = try runPicasso(["dataset", "--images", folder, "--output", dir.file("d.h5"), "--size", "32", "--val-count", "2"])
    #expect(r.status == 0, "\(r.stderr)")
    return ["train", "--dataset", dir.file("d.h5"), "--style", dir.file("photos/p0.png"), "--vgg", Paths.vgg,
            "--width", "4", "--blocks", "1", "--batch-size", "4", "--base", "none", "--seed", "3",
            "--checkpoint-every", "100", "--validate-every", "100"]
  }

  /// Largest difference between two models' weights.
  func weightDifference(_ a: String, _ b: String) throws -> Float {
    let (x, y) = (try StyleModel.load(a), try StyleModel.load(b))
    var diff: Float = 0
    for (p, q) in zip(x.net.parameters, y.net.parameters) {
      for i in 0..<p.count { diff = max(diff, abs(p.data[i] - q.data[i])) }
    }
    return diff
  }

  func losses(_ path: String) throws -> [Double] { try StyleModel.load(path).trainHistory.map(\.losses.total) }

  /// Two ranks of one thread each step exactly as one process of two threads, and within
  /// float rounding of one process taking the batch in one pass; every rank sees the same
  /// weights (rank 0 writes them).
  @Test func twoRanksTrainAsOneProcess() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let common = try setUp(dir) + ["--iterations", "5"]
    let job = try mpirun(2, common + ["--output", dir.file("mpi.h5"), "--threads", "1"])
    #expect(job.status == 0, "\(job.stderr)")
    #expect(job.stderr.contains("2 processes (mpirun)"), "\(job.stderr)")
    #expect(job.stderr.components(separatedBy: "train: done").count == 2, "rank 0 alone reports: \(job.stderr)")
    let threads = try runPicasso(common + ["--output", dir.file("threads.h5"), "--threads", "2"])
    let pass = try runPicasso(common + ["--output", dir.file("pass.h5"), "--threads", "1"])
    #expect(threads.status == 0 && pass.status == 0, "\(threads.stderr)\(pass.stderr)")

    #expect(try losses(dir.file("mpi.h5")) == losses(dir.file("threads.h5")))
    #expect(try weightDifference(dir.file("mpi.h5"), dir.file("threads.h5")) == 0)
    let (l, m) = (try losses(dir.file("mpi.h5")), try losses(dir.file("pass.h5")))
    #expect(l.count == 5 && m.count == 5)
    for (a, b) in zip(l, m) { #expect(isClose(a, b, rel: 1e-4), "loss \(a) vs one pass \(b)") }
    // After one step Adam's first moment is a tenth of the summed gradient: it matches
    // one pass's within float rounding (1e-4 of each tensor's largest element, beside
    // rounding noise at 1e-5 of the largest gradient: a conv bias before an instance norm
    // has a gradient of exactly zero in real arithmetic).
    let once = common.map { $0 == "5" ? "1" : $0 }
    let stepJob = try mpirun(2, once + ["--output", dir.file("mpi1.h5"), "--threads", "1"])
    let stepPass = try runPicasso(once + ["--output", dir.file("pass1.h5"), "--threads", "1"])
    #expect(stepJob.status == 0 && stepPass.status == 0, "\(stepJob.stderr)\(stepPass.stderr)")
    let (g, h) = (try #require(StyleModel.load(dir.file("pass1.h5")).checkpoint?.adamM),
                  try #require(StyleModel.load(dir.file("mpi1.h5")).checkpoint?.adamM))
    #expect(g.count == h.count && !g.isEmpty)
    let largest = g.map { $0.maxAbs() }.max()!
    for (k, (x, y)) in zip(g, h).enumerated() {
      var worst: Float = 0
      for i in 0..<x.count { worst = max(worst, abs(x.data[i] - y.data[i])) }
      // The noise floor is 1e-5 of the largest gradient: with OpenBLAS's Zen kernels on an AMD
      // Zen 4 the first conv's bias gradient (zero in real arithmetic) came out at 0.08 in both
      // runs, 2.6e-6 of the largest (33,000), and its two values parted by as much.
      #expect(worst <= 1e-4 * x.maxAbs() + 1e-5 * largest, "gradient \(k) \(x.shape): off by \(worst) of \(x.maxAbs())")
    }
    // Later steps amplify that rounding: Adam's first steps move a weight by about the
    // learning rate (1e-3) whatever the size of its gradient, noise included. What the
    // networks make of the validation photos after 5 steps still agrees to 1 %.
    let data = try DatasetReader(dir.file("d.h5"))
    let photos = Tensor(shape: [2, 3, 32, 32])
    try data.read(.val, indices: [0, 1], into: photos)
    let (a, b) = (try StyleModel.load(dir.file("mpi.h5")).net.forward(photos), try StyleModel.load(dir.file("pass.h5")).net.forward(photos))
    let d = maxRelativeDifference(UnsafeBufferPointer(start: a.data, count: a.count), Array(UnsafeBufferPointer(start: b.data, count: b.count)))
    #expect(d < 1e-2, "the networks' outputs differ from one pass's by \(d)")
  }

  /// A 2-rank run checkpointed at iteration 3 and resumed ends bit-identical to an
  /// uninterrupted one, resumed by two ranks or by one process of two threads.
  @Test func resumedJobEqualsUninterrupted() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let common = try setUp(dir) + ["--threads", "1"]
    let whole = try mpirun(2, common + ["--iterations", "5", "--output", dir.file("whole.h5")])
    #expect(whole.status == 0, "\(whole.stderr)")
    for (name, resumeWithMPI) in [("a.h5", true), ("b.h5", false)] {
      let first = try mpirun(2, common + ["--iterations", "3", "--output", dir.file(name)])
      #expect(first.status == 0, "\(first.stderr)")
      let rest = ["train", "--dataset", dir.file("d.h5"), "--vgg", Paths.vgg, "--resume", "--iterations", "5", "--output", dir.file(name)]
      let second = resumeWithMPI ? try mpirun(2, rest + ["--threads", "1"]) : try runPicasso(rest + ["--threads", "2"])
      #expect(second.status == 0, "\(second.stderr)")
      #expect(try losses(dir.file(name)) == losses(dir.file("whole.h5")))
      #expect(try weightDifference(dir.file(name), dir.file("whole.h5")) == 0)
    }
  }

  /// More ranks than photos in a batch: one line from rank 0 and exit status 2, before any
  /// step and without a model file.
  @Test func moreRanksThanPhotos() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let common = try setUp(dir)
    let r = try mpirun(3, common + ["--batch-size", "2", "--iterations", "2", "--output", dir.file("m.h5")])
    #expect(r.status != 0)
    let lines = r.stderr.split(separator: "\n").filter { $0.contains("picasso: error") }
    #expect(lines.count == 1 && lines[0].contains("3 processes") && lines[0].contains("--batch-size"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir.file("m.h5")))
  }

  /// SIGTERM to mpirun (what Ctrl-C does): every rank ends, and the model file holds a
  /// checkpoint that --resume continues.
  @Test func terminatedJobLeavesCheckpoint() throws {
    let dir = TemporaryFolder()
    defer { dir.remove() }
    let common = try setUp(dir) + ["--threads", "1", "--iterations", "100000", "--output", dir.file("m.h5")]
    // Foundation's Process starts children with SIGTERM blocked, and mpirun would never see
    // it: posix_spawn with an empty signal mask instead, stderr to a file.
    let log = dir.file("stderr.txt")
    let argv = [Self.mpirunPath, "--oversubscribe", "-np", "2", picassoExecutable] + common
    let envp = Self.environment.map { "\($0.key)=\($0.value)" }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    defer {
      posix_spawn_file_actions_destroy(&actions)
      posix_spawnattr_destroy(&attributes)
    }
    var pid: pid_t = 0
    let cArgs = argv.map { strdup($0) } + [nil], cEnv = envp.map { strdup($0) } + [nil]
    defer { (cArgs + cEnv).forEach { free($0) } }
    #expect(posix_spawn(&pid, Self.mpirunPath, &actions, &attributes, cArgs, cEnv) == 0)
    func text() -> String {  // read with stdio: Foundation's file readers leak under LeakSanitizer
      guard let file = fopen(log, "r") else { return "" }
      defer { fclose(file) }
      var bytes: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
      while case let n = fread(&buffer, 1, buffer.count, file), n > 0 { bytes += buffer[..<n] }
      return String(decoding: bytes, as: UTF8.self)
    }
    // The progress line of the first step (printed at once), then a few more steps.
    let deadline = Date().addingTimeInterval(600)
    while !text().contains("iter 1 "), Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
    Thread.sleep(forTimeInterval: 1)
    kill(pid, SIGTERM)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    #expect(status != 0)
    #expect(text().contains("interrupted; checkpoint at iteration"), "\(text())")
    let model = try StyleModel.load(dir.file("m.h5"))
    let iteration = try #require(model.checkpoint?.iteration)
    #expect(iteration >= 1 && model.trainHistory.count == iteration)
    let more = try runPicasso(["train", "--dataset", dir.file("d.h5"), "--vgg", Paths.vgg, "--resume", "--iterations", "\(iteration + 1)",
                               "--output", dir.file("m.h5")])
    #expect(more.status == 0, "\(more.stderr)")
  }
}
