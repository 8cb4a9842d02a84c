import PicassoCore
import Testing

struct OptimizerTests {
  /// Rosenbrock in n dimensions: Σ 100(x[i+1] − x[i]²)² + (1 − x[i])², minimum 0 at all ones.
  func rosenbrock(_ x: Tensor, _ g: Tensor) -> Double {
    g.fill(0)
    var f = 0.0
    for i in 0..<(x.count - 1) {
      let (a, b) = (Double(x.data[i]), Double(x.data[i + 1]))
      f += 100 * (b - a * a) * (b - a * a) + (1 - a) * (1 - a)
      g.data[i] += Float(-400 * a * (b - a * a) - 2 * (1 - a))
      g.data[i + 1] += Float(200 * (b - a * a))
    }
    return f
  }

  @Test(arguments: [2, 10])
  func lbfgsMinimisesRosenbrock(dimensions: Int) {
    let x = Tensor(shape: [dimensions])
    x.fill(-1.2)
    let opt = LBFGS(history: 10)
    for _ in 0..<200 where !opt.converged { opt.step(x, rosenbrock) }
    #expect(opt.loss < 1e-6, "Rosenbrock \(dimensions)-D: f = \(opt.loss) after \(opt.iterations) iterations")
    for i in 0..<dimensions { #expect(abs(x.data[i] - 1) < 1e-3) }
    #expect(opt.evaluations >= opt.iterations)
  }

  /// Each L-BFGS update must lower the objective (the line search's sufficient decrease).
  @Test func lbfgsNeverIncreasesTheLoss() {
    let x = Tensor(shape: [6])
    x.fill(-1.2)
    let opt = LBFGS(history: 3)
    var last = Double.infinity
    for _ in 0..<50 where !opt.converged {
      let f = opt.step(x, rosenbrock)
      #expect(f <= last)
      last = f
    }
  }

  @Test func adamMinimisesAQuadratic() {
    let p = Tensor(shape: [5], values: [3, -2, 1, 0.5, -4])
    let g = Tensor(shape: [5])
    let adam = Adam(learningRate: 0.1)
    for _ in 0..<500 {
      for i in 0..<5 { g.data[i] = 2 * (p.data[i] - Float(i)) }
      adam.step([p], [g])
    }
    for i in 0..<5 { #expect(abs(p.data[i] - Float(i)) < 1e-2) }
    #expect(adam.t == 500)
  }

  /// The first Adam step moves every parameter by lr·sign(g) (bias correction at work).
  @Test func adamFirstStepIsLearningRateTimesSign() {
    let p = Tensor(shape: [3], values: [0, 0, 0])
    let g = Tensor(shape: [3], values: [0.5, -3, 1e-3])
    let adam = Adam(learningRate: 0.01)
    adam.step([p], [g])
    #expect(abs(p.data[0] + 0.01) < 1e-6 && abs(p.data[1] - 0.01) < 1e-6 && abs(p.data[2] + 0.01) < 1e-5)
  }
}
