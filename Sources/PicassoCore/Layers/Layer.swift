/// A network layer in the style of Torch7 `nn`: an explicit forward pass, an explicit
/// backward pass, and its parameters beside their gradients.
///
/// `backward(input, gradOutput)` returns dLoss/dInput for the `input` that was last given to
/// `forward`, and *adds* dLoss/dParameters into `gradients` (zero them with
/// `zeroGradients()`), as llm.c and Torch do. Outputs are buffers owned by the layer and
/// reused by the next call of the same shape: copy one if it must outlive that call.
public protocol Layer: AnyObject {
  func forward(_ input: Tensor) -> Tensor
  func backward(_ input: Tensor, _ gradOutput: Tensor) -> Tensor
  /// Trainable tensors, and their gradients in the same order.
  var parameters: [Tensor] { get }
  var gradients: [Tensor] { get }
  /// Drops the buffers kept between calls (outputs, input gradients), so a forward-only pass
  /// can free each activation once the next layer has used it.
  func releaseBuffers()
}

extension Layer {
  public var parameters: [Tensor] { [] }
  public var gradients: [Tensor] { [] }
  public func zeroGradients() { for g in gradients { g.fill(0) } }
  public func releaseBuffers() {}
}

/// A check that release builds keep: they compile with -Ounchecked, which drops every
/// `precondition`. For the calls that would otherwise read or write past a buffer, such as a
/// backward pass through a network left in rendering mode (`TransformerNet.foldsUpsampling`).
@inline(__always)
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
  if !condition() { fatalError(message()) }
}
