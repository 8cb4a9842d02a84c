import Foundation

/// A contiguous Float32 tensor in NCHW order.
///
/// The shape is a value; the storage is one allocation owned by the tensor and freed with it.
/// Tensors are reference types on purpose: layers keep their outputs and workspaces and reuse
/// them from one call to the next, so a steady-state loop allocates nothing.
public final class Tensor: @unchecked Sendable {
  public let shape: [Int]
  public let count: Int
  public let data: UnsafeMutablePointer<Float>

  /// A zero-filled tensor.
  public init(shape: [Int]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative dimension.")
    self.shape = shape
    self.count = shape.reduce(1, *)
    if let pooled = StoragePool.take(Swift.max(count, 1)) {
      self.data = pooled
    } else {
      Allocations.note()
      self.data = .allocate(capacity: Swift.max(count, 1))
    }
    data.initialize(repeating: 0, count: Swift.max(count, 1))
  }

  public convenience init(shape: [Int], values: [Float]) {
    self.init(shape: shape)
    precondition(values.count == count, "\(values.count) values for shape \(shape).")
    values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
  }

  deinit { StoragePool.give(data, Swift.max(count, 1)) }

  public var n: Int { shape[0] }
  public var c: Int { shape[1] }
  public var h: Int { shape[2] }
  public var w: Int { shape[3] }

  public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: data, count: count) }
  public var array: [Float] { Array(buffer) }

  public func fill(_ value: Float) { data.update(repeating: value, count: count) }
  public func copy(from other: Tensor) {
    precondition(other.count == count, "copy from \(other.shape) into \(shape)")
    data.update(from: other.data, count: count)
  }
  public func clone() -> Tensor {
    let t = Tensor(shape: shape)
    t.copy(from: self)
    return t
  }

  /// Returns `existing` when it already has `shape`, otherwise a new tensor: the way layers
  /// keep one output buffer per input size.
  public static func reuse(_ existing: Tensor?, shape: [Int]) -> Tensor {
    if let existing, existing.shape == shape { return existing }
    return Tensor(shape: shape)
  }
}

extension Tensor {
  /// Σ xᵢ·yᵢ accumulated in Double.
  public func dot(_ other: Tensor) -> Double {
    precondition(other.count == count)
    var s = 0.0
    for i in 0..<count { s += Double(data[i]) * Double(other.data[i]) }
    return s
  }
  public func sum() -> Double {
    var s = 0.0
    for i in 0..<count { s += Double(data[i]) }
    return s
  }
  public func maxAbs() -> Float {
    var m: Float = 0
    for i in 0..<count { m = Swift.max(m, abs(data[i])) }
    return m
  }
  /// self += alpha·other
  public func add(_ other: Tensor, scaledBy alpha: Float = 1) {
    precondition(other.count == count)
    for i in 0..<count { data[i] += alpha * other.data[i] }
  }
}

/// Freed storage of large tensors, kept for the next tensor of the same size, up to
/// `limitBytes` in all. Forward-only passes free each activation as soon as the next layer
/// has used it (`Layer.releaseBuffers`); without the pool every such buffer would come back
/// from the kernel as fresh pages (glibc maps blocks over 32 MB directly), paying a page
/// fault per 4 KB on every call.
public enum StoragePool {
  /// Buffers smaller than this are left to malloc.
  static let minimumBytes = 1 << 20
  /// 1 GB: a 1024² photo's activations, so rendering photos of that size one after another
  /// reuses them (render 1024: 4.50 s with 442k page faults per photo at 256 MB, 3.05 s with 1).
  nonisolated(unsafe) public static var limitBytes = 1 << 30
  nonisolated(unsafe) private static var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
  nonisolated(unsafe) private static var pooledBytes = 0
  private static let lock = NSLock()

  static func take(_ count: Int) -> UnsafeMutablePointer<Float>? {
    guard count * 4 >= minimumBytes else { return nil }
    lock.lock()
    defer { lock.unlock() }
    guard let p = free[count]?.popLast() else { return nil }
    pooledBytes -= count * 4
    return p
  }

  static func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
    if count * 4 >= minimumBytes {
      lock.lock()
      defer { lock.unlock() }
      if pooledBytes + count * 4 <= limitBytes {
        free[count, default: []].append(p)
        pooledBytes += count * 4
        return
      }
    }
    p.deallocate()
  }

  /// Runs `body` with the pool limited to `bytes`, first returning pooled buffers beyond that
  /// to the system. The tiled renderer uses it: its tiles reuse a few small buffers, and a big
  /// pool would only add to its peak memory.
  public static func withLimit<T>(_ bytes: Int, _ body: () throws -> T) rethrows -> T {
    lock.lock()
    let saved = limitBytes
    limitBytes = min(bytes, saved)
    for (count, list) in free where pooledBytes > limitBytes {
      var kept = list
      while pooledBytes > limitBytes, let p = kept.popLast() {
        p.deallocate()
        pooledBytes -= count * 4
      }
      free[count] = kept
    }
    lock.unlock()
    defer {
      lock.lock()
      limitBytes = saved
      lock.unlock()
    }
    return try body()
  }

  /// Returns every pooled buffer to the system.
  public static func drain() {
    lock.lock()
    defer { lock.unlock() }
    for list in free.values { for p in list { p.deallocate() } }
    free = [:]
    pooledBytes = 0
  }
}
