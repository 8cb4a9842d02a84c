import Dispatch

/// The cores our own loops split work over (OpenBLAS uses the same cores for GEMM, never at
/// the same time as these loops).
public let computeThreads = max(1, min(ProcessInfo_activeProcessorCount(), 8))

/// Runs `body` over `0..<count` split into one contiguous range per core; small jobs
/// (below `grain` items) run on the calling thread.
@inline(__always)
func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
  let parts = min(computeThreads, count / max(grain, 1))
  if parts <= 1 {
    body(0..<count)
    return
  }
  DispatchQueue.concurrentPerform(iterations: parts) { p in
    body((p * count / parts)..<((p + 1) * count / parts))
  }
}

import Foundation
private func ProcessInfo_activeProcessorCount() -> Int { ProcessInfo.processInfo.activeProcessorCount }
