import Foundation

/// Slow style transfer (Gatys, Ecker & Bethge 2015): optimise the pixels of an image against
/// a `StyleObjective` with L-BFGS or Adam. The image is the RGB [0,1] tensor itself;
/// it is left unconstrained while optimising and clamped when saved.
public final class GatysOptimization {
  public enum Method: String, CaseIterable, Sendable { case lbfgs, adam }

  public struct Progress: Sendable {
    public var iteration: Int
    public var evaluations: Int
    public var losses: LossReport
    public var seconds: Double
  }

  public let objective: StyleObjective
  public let image: Tensor
  public let method: Method
  public private(set) var iteration = 0
  public private(set) var evaluations = 0
  public private(set) var losses = LossReport()
  public let initialLosses: LossReport

  private let lbfgs: LBFGS?
  private let adam: Adam?
  private let gradient: Tensor

  /// - Parameter image: the starting image (content, noise or a given picture), updated in place.
  public init(objective: StyleObjective, image: Tensor, method: Method, learningRate: Double, history: Int = 100) {
    self.objective = objective
    self.image = image
    self.method = method
    gradient = Tensor(shape: image.shape)
    lbfgs = method == .lbfgs ? LBFGS(history: history, learningRate: learningRate) : nil
    adam = method == .adam ? Adam(learningRate: Float(learningRate)) : nil
    initialLosses = objective.evaluate(image)
    losses = initialLosses
  }

  /// One iteration: one L-BFGS update (however many evaluations its line search takes)
  /// or one Adam step. Returns the losses at the updated image for L-BFGS, and at the image
  /// before the update for Adam (which only evaluates there); `finalLosses()` is exact.
  @discardableResult
  public func step() -> LossReport {
    iteration += 1
    switch method {
    case .lbfgs:
      let opt = lbfgs!
      // Keep the breakdown of recent evaluations: the accepted point is one of them.
      var recent: [LossReport] = []
      opt.step(image) { x, g in
        let report = self.objective.evaluate(x, gradient: g)
        recent.append(report)
        return report.total
      }
      evaluations = opt.evaluations
      if let match = recent.last(where: { $0.total == opt.loss }) { losses = match }
    case .adam:
      losses = objective.evaluate(image, gradient: gradient)
      evaluations += 1
      adam!.step([image], [gradient])
    }
    return losses
  }

  /// The losses at the current image, evaluated afresh.
  public func finalLosses() -> LossReport {
    if method == .lbfgs && iteration > 0 { return losses }
    losses = objective.evaluate(image)
    return losses
  }

  /// True when L-BFGS has stopped making progress.
  public var converged: Bool { lbfgs?.converged ?? false }
}
