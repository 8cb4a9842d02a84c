import Foundation
import PicassoCore
import Testing

/// The layers of the transformation network: finite-difference checks of each backward pass,
/// and the whole network against the fixtures' independent implementation.
struct TransformerTests {
  let gradients = GradientTests()

  /// fast-neural-style's -arch notation: the default network round-trips, slimmer ones parse,
  /// and shapes this network cannot take are refused with the expected form in the message.
  @Test func architectureStrings() throws {
    let standard = TransformerNet.Architecture()
    #expect(standard.string == "c9s1-32,d64,d128,R128,R128,R128,R128,R128,u64,u32,c9s1-3")
    #expect(try TransformerNet.Architecture(string: standard.string) == standard)
    let slim = try TransformerNet.Architecture(string: "c9s1-16,d32,d64,R64,R64,R64,u32,u16,c9s1-3")
    #expect(slim == .init(widths: [16, 32, 64], blocks: 3))
    #expect(try TransformerNet.Architecture(string: "c9s1-8,d16,d32,u16,u8,c9s1-3").blocks == 0)
    for bad in ["", "c9s1-32,d64,d128,R64,u64,u32,c9s1-3", "c9s1-32,d64,d128,R128,u32,u64,c9s1-3",
                "c7s1-32,d64,d128,R128,u64,u32,c9s1-3", "c9s1-32,d64,d128,R128,u64,u32,c9s1-4", "c9s1-0,d64,d128,u64,u0,c9s1-3"] {
      #expect(throws: PicassoError.self, "\(bad)") { try TransformerNet.Architecture(string: bad) }
    }
  }

  @Test(arguments: VectorLevel.runnable)
  func instanceNorm(level: VectorLevel) {
    let norm = InstanceNorm(3)
    norm.vectorLevel = level
    norm.gamma.copy(from: Tensor(shape: [3], values: [1.2, 0.7, -0.5]))
    norm.beta.copy(from: Tensor(shape: [3], values: [0.1, -0.2, 0.3]))
    gradients.checkLayer("instance norm \(level)", norm, input: randomTensor([2, 3, 5, 6], seed: 21), eps: 1e-2, tolerance: 2e-2)
  }

  /// Instance norm with its ReLU fused: finite differences, and the same output and gradients
  /// as the two layers in sequence.
  @Test(arguments: VectorLevel.runnable)
  func instanceNormWithFusedReLU(level: VectorLevel) {
    let make = { (relu: Bool) -> InstanceNorm in
      let norm = InstanceNorm(3, relu: relu)
      norm.vectorLevel = level
      norm.gamma.copy(from: Tensor(shape: [3], values: [1.2, 0.7, -0.5]))
      norm.beta.copy(from: Tensor(shape: [3], values: [0.1, -0.2, 0.3]))
      return norm
    }
    let x = randomTensor([2, 3, 5, 6], seed: 26)
    gradients.checkLayer("instance norm + relu \(level)", make(true), input: x, eps: 1e-3, tolerance: 2e-2)
    let fused = make(true), pair = Sequential([make(false), ReLU()])
    let y = fused.forward(x).clone(), yRef = pair.forward(x)
    #expect(y.array == yRef.array)
    #expect(y.array.contains(0) && y.array.contains { $0 > 0 }, "the ReLU cuts some values and keeps others")
    let dy = randomTensor(y.shape, seed: 27)
    let dx = fused.backward(x, dy.clone()).clone(), dxRef = pair.backward(x, dy.clone())
    #expect(maxRelativeDifference(UnsafeBufferPointer(dx.buffer), dxRef.array) < 1e-6)
    let reference = pair.layers[0] as! InstanceNorm
    #expect(maxRelativeDifference(UnsafeBufferPointer(fused.gammaGrad.buffer), reference.gammaGrad.array) < 1e-6)
    #expect(maxRelativeDifference(UnsafeBufferPointer(fused.betaGrad.buffer), reference.betaGrad.array) < 1e-6)
  }

  /// Every vector level of instance norm's loops against plain C, with and without the fused
  /// ReLU, on planes of 37 × 29 (1073 values: full vectors of 8 and 16 and a tail) with an
  /// offset mean, where a sum in float would lose digits: output, input gradient and both
  /// parameter gradients.
  @Test(arguments: [false, true])
  func instanceNormLevelsAgree(relu: Bool) {
    let x = randomTensor([2, 4, 37, 29], seed: 28, lo: 3, hi: 5)
    let dy = randomTensor(x.shape, seed: 29)
    func run(_ level: VectorLevel) -> [[Float]] {
      let norm = InstanceNorm(4, relu: relu)
      norm.vectorLevel = level
      norm.gamma.copy(from: Tensor(shape: [4], values: [1.2, 0.7, -0.5, 2]))
      norm.beta.copy(from: Tensor(shape: [4], values: [0.1, -0.2, 0.3, 0]))
      let y = norm.forward(x).array
      let dx = norm.backward(x, dy).array
      return [y, dx, norm.gammaGrad.array, norm.betaGrad.array]
    }
    let plain = run(.plain)
    #expect(plain[0].allSatisfy(\.isFinite) && plain[1].contains { $0 != 0 })
    for level in VectorLevel.runnable where level != .plain {
      for (term, (a, b)) in zip(["output", "input gradient", "gamma gradient", "beta gradient"], zip(run(level), plain)) {
        let difference = a.withUnsafeBufferPointer { maxRelativeDifference($0, b) }
        #expect(difference < 1e-5, "\(term) at \(level): relative difference \(difference)")
      }
    }
  }

  @Test func reluAndUpsample() {
    gradients.checkLayer("relu", ReLU(), input: randomTensor([2, 3, 4, 5], seed: 22), eps: 1e-3)
    gradients.checkLayer("upsample", Upsample2x(), input: randomTensor([2, 3, 4, 5], seed: 23))
    let up = Upsample2x().forward(Tensor(shape: [1, 1, 1, 2], values: [1, 2]))
    #expect(up.array == [1, 1, 2, 2, 1, 1, 2, 2])
  }

  /// A network left in rendering mode (each upsample folded into its conv) has no backward
  /// pass and stops the process saying so, rather than reading past a gradient: the check
  /// is kept in release builds, which drop `precondition`s.
  @Test func backwardInRenderingModeStops() async {
    await #expect(processExitsWith: .failure) {
      let net = TransformerNet(.init(widths: [2, 4, 8], blocks: 1))
      net.foldsUpsampling = true
      let x = Tensor(shape: [1, 3, 16, 16])
      _ = net.backward(x, net.forward(x))
    }
  }

  @Test func outputScale() {
    gradients.checkLayer("scale", Scale(1 / 255), input: randomTensor([2, 3, 4, 5], seed: 24), eps: 1e-3)
    #expect(Scale(0.5).forward(Tensor(shape: [1, 1, 1, 2], values: [2, -4])).array == [1, -2])
    // Trained networks end in ×1/255; the fixtures' network (scale 1) is checked elsewhere.
    let net = TransformerNet(.init(widths: [2, 2, 2], blocks: 0))
    #expect((net.network.layers.last as? Scale)?.factor == Float(1) / 255)
  }

  @Test func residualBlock() {
    let conv = Conv2D(3, 3, kernel: 3, padding: .reflect)
    conv.weight.copy(from: randomTensor(conv.weight.shape, seed: 24, lo: -0.3, hi: 0.3))
    let block = Residual(Sequential([conv, InstanceNorm(3)]))
    gradients.checkLayer("residual", block, input: randomTensor([1, 3, 6, 6], seed: 25), tolerance: 2e-2)
  }

  /// A smooth chain of the network's pieces (strided and plain reflection-padded convs,
  /// instance norms, upsampling) composed by Sequential; the whole network, ReLUs included,
  /// is checked against the fixtures' training step below.
  @Test func downUpChain() {
    let down = Conv2D(3, 4, kernel: 3, stride: 2, padding: .reflect)
    let up = Conv2D(4, 3, kernel: 3, padding: .reflect)
    down.weight.copy(from: randomTensor(down.weight.shape, seed: 28, lo: -0.4, hi: 0.4))
    up.weight.copy(from: randomTensor(up.weight.shape, seed: 29, lo: -0.4, hi: 0.4))
    // (No norm right after a conv: its bias would have a true gradient of 0.)
    let chain = Sequential([InstanceNorm(3), down, Upsample2x(), up])
    gradients.checkLayer("down-up chain", chain, input: randomTensor([2, 3, 10, 12], seed: 30), tolerance: 2e-2)
  }

  @Test func defaultSizeHasTheReferenceParameterCount() {
    #expect(TransformerNet().parameterCount == 1_679_235)
    #expect(TransformerNet.Architecture().parameterCount == 1_679_235)
    let slim = TransformerNet.Architecture(widths: [16, 24, 40], blocks: 3)
    #expect(slim.parameterCount == TransformerNet(slim).parameterCount)
  }

  /// A TransformerNet with the fixtures' generated weights (seed 100000 + k per parameter).
  static func fixtureNet(_ json: [String: Any]) -> TransformerNet {
    let spec = (json["transformer"] as! [String: Any])["param_init"] as! [[String: Any]]
    let net = TransformerNet(.init(outputScale: 1))  // the fixtures' network writes [0, 1] directly
    precondition(net.parameters.count == spec.count)
    for (k, (p, s)) in zip(net.parameters, spec).enumerated() {
      precondition(p.shape == s["shape"] as! [Int], "parameter \(k) \(s["name"]!)")
      var rng = SplitMix64(seed: UInt64(100_000 + k))
      let rule = s["rule"] as! String
      for i in 0..<p.count {
        let u = Double(rng.next() >> 40) * 0x1p-24
        if rule.hasPrefix("conv") {
          p.data[i] = Float((2 * u - 1) / Double(s["fan_in"] as! Int).squareRoot())
        } else if rule.contains("gamma") {
          p.data[i] = Float(1 + 0.1 * (2 * u - 1))
        } else {
          p.data[i] = Float(0.1 * (2 * u - 1))
        }
      }
    }
    return net
  }

  static func fixtureJSON() throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Paths.fixtures + "/fixtures.json"))) as! [String: Any]
  }

  static func fixtureImage(_ name: String) throws -> RGBImage {
    RGBImage(width: 64, height: 64, pixels: [UInt8](try Data(contentsOf: URL(fileURLWithPath: Paths.fixtures + "/img_\(name).u8"))))
  }

  /// Weights from the fixture's generator, output against the float64 reference, with the
  /// Winograd F(2×2) of training and the F(4×4) of the renderer, and with the renderer's
  /// upsamples folded into their convs.
  /// On every vector level of the project's own kernels this CPU has.
  @Test(.enabled(if: Paths.haveFixtures, "needs ../shared/fixtures"),
        arguments: [(WinogradTile.f2, false), (.f4, false), (.f4, true)], VectorLevel.runnable)
  func outputMatchesTheFixture(_ variant: (tile: WinogradTile, foldsUpsampling: Bool), level: VectorLevel) throws {
    let (tile, foldsUpsampling) = variant
    let net = Self.fixtureNet(try Self.fixtureJSON())
    net.winogradTile = tile
    net.foldsUpsampling = foldsUpsampling
    net.vectorLevel = level
    let y = net.forward(try Self.fixtureImage("transformer_input").tensor())
    let ref = try Data(contentsOf: URL(fileURLWithPath: Paths.fixtures + "/transformer_out_f64_as_f32.f32"))
      .withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    let diff = maxRelativeDifference(UnsafeBufferPointer(y.buffer), ref)
    #expect(diff < 1e-4, "transformer output (\(tile), fold \(foldsUpsampling), \(level)): max difference \(diff) of the largest magnitude")
  }

  /// One fast-training step (batch of 2, VGG19 perceptual losses, Adam): the losses, the
  /// parameter-gradient norms (whole and per tensor) and the loss after one Adam step
  /// against the fixtures. This checks the network's backward pass as a whole, where float32
  /// finite differences through ReLUs and instance norms are too noisy to be sharp.
  @Test(.enabled(if: Paths.haveFixtures, "needs ../shared/fixtures"), arguments: VectorLevel.runnable)
  func trainingStepMatchesTheFixture(level: VectorLevel) throws {
    let json = try Self.fixtureJSON()
    let spec = json["fast_training"] as! [String: Any]
    let ref = spec["float64"] as! [String: Any]
    let contentLayer = spec["content_layer"] as! String
    let styleLayers = spec["style_layers"] as! [String]
    let net = Self.fixtureNet(json)
    let vgg = try requireVGG(taps: [contentLayer] + styleLayers)
    net.vectorLevel = level
    vgg.vectorLevel = level
    let objective = StyleObjective(
      vgg: vgg, styles: [(try Self.fixtureImage("style").tensor(), 1)], contentLayers: [contentLayer],
      styleLayers: styleLayers, weights: LossWeights(content: 1, style: 30, tv: 1))
    let batch = Tensor(shape: [2, 3, 64, 64])
    for (i, name) in ["fast_content0", "fast_content1"].enumerated() {
      let t = try Self.fixtureImage(name).tensor()
      (batch.data + i * t.count).update(from: t.data, count: t.count)
    }
    objective.setContent(batch)

    func term(_ name: String) -> [String: Any] { ref[name] as! [String: Any] }
    func gradNorms(_ weights: LossWeights) -> (LossReport, [Double]) {
      let single = StyleObjective(
        vgg: vgg, styles: [(try! Self.fixtureImage("style").tensor(), 1)], contentLayers: [contentLayer],
        styleLayers: styleLayers, weights: weights)
      single.setContent(batch)
      net.zeroGradients()
      let y = net.forward(batch)
      let dy = Tensor(shape: y.shape)
      let report = single.evaluate(y, gradient: dy)
      _ = net.backward(batch, dy)
      return (report, net.gradients.map { $0.dot($0).squareRoot() })
    }
    let (report, norms) = gradNorms(LossWeights(content: 1, style: 30, tv: 1))
    #expect(isClose(report.total, term("total")["value"] as! Double, rel: 1e-4), "total \(report.total)")
    #expect(isClose(report.content, term("content")["value"] as! Double, rel: 1e-4), "content \(report.content)")
    #expect(isClose(report.style, term("style")["value"] as! Double, rel: 1e-4), "style \(report.style)")
    #expect(isClose(report.tv, term("tv")["value"] as! Double, rel: 1e-4), "tv \(report.tv)")
    for (layer, expected) in ref["style_per_layer"] as! [String: Double] {
      #expect(isClose(report.styleByLayer[layer]!, expected, rel: 1e-4), "style \(layer)")
    }
    let total = norms.reduce(0) { $0 + $1 * $1 }.squareRoot()
    let totalRef = term("total")
    #expect(isClose(total, totalRef["param_grad_l2"] as! Double, rel: 1e-4), "parameter gradient L2 \(total)")
    let byTensor = totalRef["param_grad_l2_by_tensor"] as! [String: Double]
    let index = ["conv1.conv2d.weight": 0, "in1.weight": 2, "res3.conv2.conv2d.weight": 32,
                 "deconv3.conv2d.bias": net.parameters.count - 1]
    for (name, expected) in byTensor {
      #expect(isClose(norms[index[name]!], expected, rel: 1e-4), "\(name): \(norms[index[name]!]) vs \(expected)")
    }
    for (name, weights) in [("content", LossWeights(content: 1, style: 0, tv: 0)),
                            ("style", LossWeights(content: 0, style: 1, tv: 0)),
                            ("tv", LossWeights(content: 0, style: 0, tv: 1))] {
      let l2 = gradNorms(weights).1.reduce(0) { $0 + $1 * $1 }.squareRoot()
      #expect(isClose(l2, term(name)["param_grad_l2"] as! Double, rel: 1e-4), "\(name) parameter gradient L2 \(l2)")
    }

    // One Adam step from the full gradient, then the loss again.
    _ = gradNorms(LossWeights(content: 1, style: 30, tv: 1))
    let adam = Adam(learningRate: 1e-3)
    adam.step(net.parameters, net.gradients)
    let after = objective.evaluate(net.forward(batch)).total
    let expectedAfter = term("after_one_adam_step")["loss_after"] as! Double
    #expect(isClose(after, expectedAfter, rel: 1e-3), "loss after one Adam step \(after) vs \(expectedAfter)")
  }
}
