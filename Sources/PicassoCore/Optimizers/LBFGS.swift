/// Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989) with a strong-Wolfe line search,
/// one update per `step`, following PyTorch's `torch.optim.LBFGS` (itself after minFunc).
///
/// - Direction: the two-loop recursion over the last `history` pairs (s = Δx, y = Δg), with
///   the initial Hessian scaled by sᵀy / yᵀy. Pairs with sᵀy ≤ 1e-10 are skipped, which
///   keeps the approximation positive definite.
/// - Step: the first step tries t = min(1, 1/‖g‖₁)·lr, later ones t = lr; the line search
///   then brackets and zooms (cubic interpolation) until f(x + t·d) ≤ f + c₁·t·gᵀd and
///   |g(x + t·d)ᵀd| ≤ c₂·|gᵀd| (c₁ = 1e-4, c₂ = 0.9), at most 25 evaluations. Without a
///   line search a fixed step of 1 can blow up on ordinary style-transfer problems.
/// An iteration is one update of x; `evaluations` counts every call of the objective.
public final class LBFGS {
  public let history: Int
  public let learningRate: Double
  public let c1 = 1e-4, c2 = 0.9, maxLineSearch = 25
  public let toleranceChange = 1e-9

  public private(set) var iterations = 0
  public private(set) var evaluations = 0
  /// The objective at the current x (after the last step).
  public private(set) var loss = Double.nan

  private var g: [Float] = []          // gradient at x
  private var d: [Float] = []          // search direction
  private var s: [[Float]] = [], y: [[Float]] = [], rho: [Double] = []
  private var hDiag = 1.0
  private var trial: Tensor?, trialGrad: Tensor?
  /// True once the method stopped making progress (tiny step or change): further steps
  /// do nothing.
  public private(set) var converged = false

  public init(history: Int = 100, learningRate: Double = 1) {
    precondition(history > 0, "L-BFGS needs a history of at least 1.")
    self.history = history
    self.learningRate = learningRate
  }

  /// The objective: returns f(x) and *writes* ∇f(x) into the gradient tensor.
  public typealias Objective = (_ x: Tensor, _ gradient: Tensor) -> Double

  /// Performs one L-BFGS update of `x` in place. Returns the loss at the new x.
  @discardableResult
  public func step(_ x: Tensor, _ f: Objective) -> Double {
    let n = x.count
    if trial == nil || trial!.shape != x.shape {
      trial = Tensor(shape: x.shape)
      trialGrad = Tensor(shape: x.shape)
    }
    if iterations == 0 {
      let grad = trialGrad!
      grad.fill(0)
      loss = f(x, grad)
      evaluations += 1
      g = grad.array
      d = g.map { -$0 }
    }
    if converged { return loss }
    iterations += 1
    if iterations > 1 { updateDirection() }

    var t: Double
    if iterations == 1 {
      let l1 = g.reduce(0.0) { $0 + Double(abs($1)) }
      t = min(1, 1 / max(l1, 1e-300)) * learningRate
    } else {
      t = learningRate
    }
    let gtd = dot(g, d)
    if gtd > -toleranceChange { converged = true; iterations -= 1; return loss }

    let previousLoss = loss
    let (fNew, gNew, tNew) = strongWolfe(x, f, t: t, f0: loss, gtd: gtd)
    t = tNew
    // x ← x + t·d; remember s = t·d and the new gradient for the next direction.
    let tf = Float(t)
    var step = [Float](repeating: 0, count: n)
    for i in 0..<n { step[i] = tf * d[i]; x.data[i] += step[i] }
    let yNew = zip(gNew, g).map { $0 - $1 }
    pendingPair = (step, yNew)
    g = gNew
    loss = fNew
    let maxStep = step.reduce(Float(0)) { max($0, abs($1)) }
    if Double(maxStep) <= toleranceChange || abs(loss - previousLoss) < toleranceChange { converged = true }
    return loss
  }

  private var pendingPair: ([Float], [Float])?

  /// The two-loop recursion: d = −H·g from the stored pairs.
  private func updateDirection() {
    if let (sv, yv) = pendingPair {
      let ys = dot(yv, sv)
      if ys > 1e-10 {
        if s.count == history { s.removeFirst(); y.removeFirst(); rho.removeFirst() }
        s.append(sv); y.append(yv); rho.append(1 / ys)
        hDiag = ys / dot(yv, yv)
      }
      pendingPair = nil
    }
    var q = g.map { -$0 }
    var alpha = [Double](repeating: 0, count: s.count)
    for i in stride(from: s.count - 1, through: 0, by: -1) {
      alpha[i] = dot(s[i], q) * rho[i]
      axpy(-alpha[i], y[i], &q)
    }
    for i in 0..<q.count { q[i] = Float(Double(q[i]) * hDiag) }
    for i in 0..<s.count {
      let beta = dot(y[i], q) * rho[i]
      axpy(alpha[i] - beta, s[i], &q)
    }
    d = q
  }

  /// f and ∇f at x + t·d (x itself is not changed).
  private func evaluate(_ x: Tensor, _ f: Objective, _ t: Double) -> (Double, [Float]) {
    let xt = trial!, gt = trialGrad!
    let tf = Float(t)
    for i in 0..<x.count { xt.data[i] = x.data[i] + tf * d[i] }
    gt.fill(0)
    let value = f(xt, gt)
    evaluations += 1
    return (value, gt.array)
  }

  /// Strong-Wolfe line search along d from x: bracketing, then zoom by cubic interpolation.
  /// Returns the accepted f, gradient and step.
  private func strongWolfe(_ x: Tensor, _ f: Objective, t t0: Double, f0: Double, gtd: Double)
    -> (Double, [Float], Double)
  {
    var t = t0
    let dNorm = Double(d.reduce(Float(0)) { max($0, abs($1)) })
    var (fNew, gNew) = evaluate(x, f, t)
    var gtdNew = dot(gNew, d)
    var (tPrev, fPrev, gPrev, gtdPrev) = (0.0, f0, g, gtd)
    var done = false
    var lsIter = 0
    var bracket: [Double] = [], bf: [Double] = [], bg: [[Float]] = [], bgtd: [Double] = []

    while lsIter < maxLineSearch {
      if fNew > f0 + c1 * t * gtd || !fNew.isFinite || (lsIter > 1 && fNew >= fPrev) {
        (bracket, bf, bg, bgtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew])
        break
      }
      if abs(gtdNew) <= -c2 * gtd {
        (bracket, bf, bg, bgtd) = ([t], [fNew], [gNew], [gtdNew])
        done = true
        break
      }
      if gtdNew >= 0 {
        (bracket, bf, bg, bgtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew])
        break
      }
      let minStep = t + 0.01 * (t - tPrev), maxStep = t * 10
      let previous = t
      t = cubicMinimum(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, bounds: (minStep, maxStep))
      (tPrev, fPrev, gPrev, gtdPrev) = (previous, fNew, gNew, gtdNew)
      (fNew, gNew) = evaluate(x, f, t)
      gtdNew = dot(gNew, d)
      lsIter += 1
    }
    if lsIter == maxLineSearch {
      (bracket, bf, bg, bgtd) = ([0, t], [f0, fNew], [g, gNew], [gtd, gtdNew])
    }

    // Zoom: shrink the bracket until the strong-Wolfe conditions hold.
    var insufficientProgress = false
    var (low, high) = bracket.count == 2 && bf[0] > bf[1] ? (1, 0) : (0, 1)
    while !done && lsIter < maxLineSearch && bracket.count == 2 {
      if abs(bracket[1] - bracket[0]) * dNorm < toleranceChange { break }
      t = cubicMinimum(bracket[0], bf[0], bgtd[0], bracket[1], bf[1], bgtd[1], bounds: nil)
      let (lo, hi) = (bracket.min()!, bracket.max()!)
      let eps = 0.1 * (hi - lo)
      if min(hi - t, t - lo) < eps {
        if insufficientProgress || t >= hi || t <= lo {
          t = abs(t - hi) < abs(t - lo) ? hi - eps : lo + eps
          insufficientProgress = false
        } else {
          insufficientProgress = true
        }
      } else {
        insufficientProgress = false
      }
      (fNew, gNew) = evaluate(x, f, t)
      gtdNew = dot(gNew, d)
      lsIter += 1
      if fNew > f0 + c1 * t * gtd || !fNew.isFinite || fNew >= bf[low] {
        (bracket[high], bf[high], bg[high], bgtd[high]) = (t, fNew, gNew, gtdNew)
        (low, high) = bf[0] <= bf[1] ? (0, 1) : (1, 0)
      } else {
        if abs(gtdNew) <= -c2 * gtd {
          done = true
        } else if gtdNew * (bracket[high] - bracket[low]) >= 0 {
          (bracket[high], bf[high], bg[high], bgtd[high]) = (bracket[low], bf[low], bg[low], bgtd[low])
        }
        (bracket[low], bf[low], bg[low], bgtd[low]) = (t, fNew, gNew, gtdNew)
      }
    }
    if bracket.count == 1 { return (bf[0], bg[0], bracket[0]) }
    return (bf[low], bg[low], bracket[low])
  }
}

/// The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to `bounds`
/// (default: between x1 and x2); the midpoint when the cubic has no minimum.
func cubicMinimum(_ x1: Double, _ f1: Double, _ g1: Double, _ x2: Double, _ f2: Double, _ g2: Double,
                  bounds: (Double, Double)?) -> Double {
  let (lo, hi) = bounds ?? (min(x1, x2), max(x1, x2))
  let d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
  let d2sq = d1 * d1 - g1 * g2
  guard d2sq >= 0, d2sq.isFinite else { return (lo + hi) / 2 }
  let d2 = d2sq.squareRoot()
  let m = x1 <= x2
    ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
  guard m.isFinite else { return (lo + hi) / 2 }
  return min(max(m, lo), hi)
}

@inline(__always)
func dot(_ a: [Float], _ b: [Float]) -> Double {
  var s = 0.0
  a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
    for i in 0..<pa.count { s += Double(pa[i]) * Double(pb[i]) }
  } }
  return s
}

@inline(__always)
func axpy(_ alpha: Double, _ x: [Float], _ y: inout [Float]) {
  let a = Float(alpha)
  x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { py in
    for i in 0..<px.count { py[i] += a * px[i] }
  } }
}
