/// Scratch memory shared by the convolutions of a network, grown on demand and never shrunk,
/// so a steady-state loop allocates nothing. Conv2D sizes its row bands to `limitBytes`.
public final class Workspace {
  /// Upper bound on the column buffers, in bytes (two buffers of half this each).
  public let limitBytes: Int
  private var buffers: [UnsafeMutablePointer<Float>] = []
  private var capacities: [Int] = []

  public init(limitBytes: Int = 64 << 20) { self.limitBytes = limitBytes }

  deinit { for b in buffers { b.deallocate() } }

  /// Buffer number `slot`, with room for at least `count` floats.
  func buffer(_ slot: Int, count: Int) -> UnsafeMutablePointer<Float> {
    while buffers.count <= slot {
      buffers.append(.allocate(capacity: 1))
      capacities.append(1)
    }
    if capacities[slot] < count {
      Allocations.note()
      buffers[slot].deallocate()
      buffers[slot] = .allocate(capacity: count)
      capacities[slot] = count
    }
    return buffers[slot]
  }
}
