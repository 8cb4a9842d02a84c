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
    self.data = .allocate(capacity: Swift.max(count, 1))
    data.initialize(repeating: 0, count: Swift.max(count, 1))
  }

  public convenience init(shape: [Int], values: [Float]) {
    self.init(shape: shape)
    precondition(values.count == count, "\(values.count) values for shape \(shape).")
    values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
  }

  deinit { data.deallocate() }

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
