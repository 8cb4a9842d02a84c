/// One of N deterministic parts of a set of items (`picasso stylize --shard I/N`): the items
/// sorted by a key and dealt out in turn, item k to part k mod N + 1. The parts do not depend
/// on the order the items came in, or on which part runs first; together they hold every
/// item once, and their sizes differ by at most one.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
  /// 1…count.
  public let index: Int
  public let count: Int

  public init(index: Int, count: Int) throws {
    guard count >= 1 else { throw PicassoError.badInput("--shard \(index)/\(count): N must be at least 1") }
    guard (1...count).contains(index) else { throw PicassoError.badInput("--shard \(index)/\(count): I must be between 1 and \(count)") }
    (self.index, self.count) = (index, count)
  }

  /// "I/N".
  public init(parsing text: String) throws {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
      throw PicassoError.badInput("--shard must be I/N (such as 2/8, the second of eight parts), not '\(text)'")
    }
    try self.init(index: i, count: n)
  }

  /// The part of this process under Open MPI's launcher (OMPI_COMM_WORLD_RANK and _SIZE, or
  /// PMI_RANK and PMI_SIZE from other launchers), or nil outside one.
  public static func fromMPI(_ environment: [String: String]) throws -> Shard? {
    for (rank, size) in [("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"), ("PMI_RANK", "PMI_SIZE")] {
      if let r = environment[rank].flatMap(Int.init), let n = environment[size].flatMap(Int.init) {
        return try Shard(index: r + 1, count: n)
      }
    }
    return nil
  }

  public func select<T>(_ items: [T], by key: (T) -> String) -> [T] {
    let sorted = items.sorted { key($0) < key($1) }
    return sorted.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
  }

  public var description: String { "\(index)/\(count)" }
}
