import Foundation
import Synchronization

/// Counts the buffers the compute core allocates from the system: tensor storage not found in
/// `StoragePool`, and workspace growth. A steady-state loop (a training step, a render of a
/// photo the size of the last) adds none.
public enum Allocations {
  private static let counter = Atomic<Int>(0)
  public static var count: Int { counter.load(ordering: .relaxed) }
  static func note() { counter.add(1, ordering: .relaxed) }
}

/// Timing and memory figures for benchmarks.
public enum Measure {
  /// Per timed run of the last `seconds` call: buffers allocated (`Allocations`) and minor
  /// page faults (fresh pages the kernel had to map, the cost of re-mapping big buffers).
  nonisolated(unsafe) public static var lastAllocationsPerRun = 0.0
  nonisolated(unsafe) public static var lastPageFaultsPerRun = 0.0

  /// Wall-clock seconds of `body`, run `repeats` times after `warmup` untimed runs; sorted.
  public static func seconds(repeats: Int, warmup: Int = 1, _ body: () -> Void) -> [Double] {
    for _ in 0..<warmup { body() }
    var times: [Double] = []
    let (allocations, faults) = (Allocations.count, minorPageFaults)
    for _ in 0..<repeats {
      let start = DispatchTime.now().uptimeNanoseconds
      body()
      times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }
    lastAllocationsPerRun = Double(Allocations.count - allocations) / Double(max(repeats, 1))
    lastPageFaultsPerRun = Double(minorPageFaults - faults) / Double(max(repeats, 1))
    return times.sorted()
  }

  /// Minor page faults of this process so far (getrusage).
  public static var minorPageFaults: Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_minflt
  }

  /// The peak resident memory of this process since the last `resetPeakMemory()` (or its
  /// start), in bytes: VmHWM from /proc/self/status, else getrusage's ru_maxrss.
  public static var peakResidentBytes: Int {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
       let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
       let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
      return kb * 1024
    }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
  }

  /// Starts a new peak-memory measurement from the current resident size (Linux clear_refs).
  public static func resetPeakMemory() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
  }
}

/// GEMM throughput on one shape, C[M×N] = A[M×K]·B[K×N], in GFLOP/s (best of `repeats`).
public func gemmGFLOPS(m: Int, n: Int, k: Int, repeats: Int = 5) -> (seconds: [Double], gflops: Double) {
  let a = Tensor(shape: [m, k]), b = Tensor(shape: [k, n]), c = Tensor(shape: [m, n])
  var rng = SplitMix64(seed: 1)
  for i in 0..<a.count { a.data[i] = rng.unit() - 0.5 }
  for i in 0..<b.count { b.data[i] = rng.unit() - 0.5 }
  let times = Measure.seconds(repeats: repeats) {
    gemm(m: m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: n, c: c.data, ldc: n)
  }
  return (times, 2 * Double(m) * Double(n) * Double(k) / times[0] / 1e9)
}
