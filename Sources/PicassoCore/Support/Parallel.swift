import CKernels
import Dispatch

/// The cores our own loops split work over (OpenBLAS uses the same cores for GEMM, never at
/// the same time as these loops).
public let computeThreads = max(1, min(ProcessInfo_activeProcessorCount(), 8))

/// Runs `body` over `0..<count` split into one contiguous range per core; small jobs
/// (below `grain` items), and every job of a thread inside `eachWorker`, run on the calling thread.
@inline(__always)
func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
  let parts = min(computeThreads, count / max(grain, 1))
  if parts <= 1 || picasso_serial() != 0 {
    body(0..<count)
    return
  }
  DispatchQueue.concurrentPerform(iterations: parts) { p in
    body((p * count / parts)..<((p + 1) * count / parts))
  }
}

/// Runs `body` once per worker, each on its own thread, with the library's loops and
/// OpenBLAS kept to that thread (a data-parallel step: one worker per core, each on its own
/// share of the batch). OpenBLAS's thread count is restored afterwards.
func eachWorker(_ workers: Int, _ body: (Int) -> Void) {
  guard workers > 1 else { return body(0) }
  WorkerRegions.enter()
  defer { WorkerRegions.leave() }
  DispatchQueue.concurrentPerform(iterations: workers) { w in
    picasso_serial_begin()
    defer { picasso_serial_end() }
    body(w)
  }
}

/// Runs `body` with the calling thread's loops, and OpenBLAS, on one core: for results that
/// must not depend on the thread count. OpenBLAS's AVX-512 kernels (SkylakeX, Cooperlake)
/// round a GEMM differently on one thread than on two.
func onOneCore<T>(_ body: () throws -> T) rethrows -> T {
  WorkerRegions.enter()
  picasso_serial_begin()
  defer {
    picasso_serial_end()
    WorkerRegions.leave()
  }
  return try body()
}

/// Keeps the calling thread's loops, and OpenBLAS, on one core from now on (a rank of an MPI
/// job that shares its machine's cores with the other ranks).
public func useOneCore() {
  blasThreads = 1
  picasso_serial_begin()
}

/// OpenBLAS's thread count is one setting for the process: the first of overlapping
/// data-parallel regions (tests run trainers side by side) sets it to 1, the last restores it.
private enum WorkerRegions {
  static let lock = NSLock()
  nonisolated(unsafe) static var active = 0
  nonisolated(unsafe) static var savedThreads = 1

  static func enter() {
    lock.lock()
    defer { lock.unlock() }
    if active == 0 {
      savedThreads = blasThreads
      blasThreads = 1
    }
    active += 1
  }

  static func leave() {
    lock.lock()
    defer { lock.unlock() }
    active -= 1
    if active == 0 { blasThreads = savedThreads }
  }
}

import Foundation
private func ProcessInfo_activeProcessorCount() -> Int { ProcessInfo.processInfo.activeProcessorCount }
