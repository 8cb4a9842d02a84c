import Foundation

/// A value read by `Unpickler`.
public indirect enum PickleValue: Equatable {
  case none
  case bool(Bool)
  case int(Int)
  /// An integer wider than 64 bits (LONG1), as its little-endian two's-complement bytes.
  case long([UInt8])
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case tuple([PickleValue])
  case list([PickleValue])
  /// A dict or OrderedDict, keys in insertion order.
  case dict([PickleValue], [PickleValue])
  /// A global the reader allows (a storage type or a tensor rebuilder), by its dotted name.
  case global(String)
  /// A storage named by a persistent id: ('storage', type, key, location, count[, view]).
  case storage(TorchStorageRef)
  /// The result of torch._utils._rebuild_tensor(_v2).
  case tensor(TorchTensorRef)

  /// What the value is, in a few words (never the value itself: a pickle can describe a
  /// value exponentially larger than its file by repeating memoised references).
  public var kind: String {
    switch self {
    case .none: return "None"
    case .bool(let b): return b ? "True" : "False"
    case .int(let n): return "the number \(n)"
    case .long: return "a long integer"
    case .float(let x): return "the number \(x)"
    case .string(let s): return "the string \"\(s.prefix(40))\""
    case .bytes(let b): return "\(b.count) bytes"
    case .tuple(let t): return "a tuple of \(t.count)"
    case .list(let l): return "a list of \(l.count)"
    case .dict(let k, _): return "a dict of \(k.count)"
    case .global(let name): return name
    case .storage: return "a storage"
    case .tensor: return "a tensor"
    }
  }

  /// The value of a dict entry with a string key.
  public subscript(key: String) -> PickleValue? {
    guard case .dict(let keys, let values) = self, let i = keys.firstIndex(of: .string(key)) else { return nil }
    return values[i]
  }
}

/// A storage as a pickle names it: its element type, its key (a file in a zip archive, or an
/// entry of the legacy format) and, for a view, where it lies in its root storage.
public struct TorchStorageRef: Equatable, Sendable {
  public var type: String
  public var key: String
  public var count: Int
  /// For a legacy view: the root storage's key and the view's offset in elements.
  public var root: (key: String, offset: Int)?

  public static func == (a: Self, b: Self) -> Bool {
    a.type == b.type && a.key == b.key && a.count == b.count && a.root?.key == b.root?.key && a.root?.offset == b.root?.offset
  }

  /// Bytes per element of the float storage types.
  public var elementSize: Int { Unpickler.floatStorages[type]! }
}

/// A tensor as `_rebuild_tensor_v2` describes it: a strided window on a storage.
public struct TorchTensorRef: Equatable, Sendable {
  public var storage: TorchStorageRef
  public var offset: Int
  public var shape: [Int]
  public var strides: [Int]
}

/// A pickle reader for PyTorch state dicts, and nothing else.
///
/// A pickle is a program: its GLOBAL and REDUCE opcodes import and call any Python function
/// (a file naming `os.system` runs a shell command when Python loads it). This reader calls
/// nothing: it knows the few globals a state dict needs (`collections.OrderedDict`, the
/// tensor rebuilders, the float storage types) and stops at any other with an error naming
/// it. It reads protocols 2 to 5 (the opcodes `torch.save` and Python's pickle write for
/// dicts, tuples, strings, numbers and persistent ids); anything else is refused by name.
/// Every length is checked against the bytes left.
public struct Unpickler {
  /// The float storage types and their element sizes.
  public static let floatStorages = ["torch.FloatStorage": 4, "torch.DoubleStorage": 8, "torch.HalfStorage": 2, "torch.BFloat16Storage": 2]
  static let rebuilders: Set<String> = ["torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor"]
  static let allowed: Set<String> = rebuilders.union(floatStorages.keys).union(["collections.OrderedDict"])

  public enum Failure: Error, CustomStringConvertible {
    /// A global outside the allowed set (its dotted name).
    case forbiddenGlobal(String)
    case malformed(String)
    public var description: String {
      switch self {
      case .forbiddenGlobal(let name):
        return "refusing to load: the pickle calls \(name), which a state dict never needs (pickles run code)"
      case .malformed(let why): return "not a readable pickle: \(why)"
      }
    }
  }

  private let bytes: [UInt8]
  /// Where the next opcode is; after `load`, the first byte after the pickle's STOP.
  public private(set) var position: Int

  public init(_ bytes: [UInt8], at position: Int = 0) {
    self.bytes = bytes
    self.position = position
  }

  /// A marker on the stack (MARK), and the values in between with their nesting depth.
  private enum Item {
    case value(PickleValue, depth: Int)
    case mark
  }

  /// Containers nest at most this deep (a state dict needs 4); deeper values would make
  /// recursive code (comparison, release) overflow the stack.
  static let maxDepth = 32

  /// Reads one pickle up to its STOP and returns its value.
  public mutating func load() throws -> PickleValue {
    var stack: [Item] = []
    var memo: [Int: (PickleValue, Int)] = [:]
    func fail(_ why: String) -> Failure { .malformed("\(why) at byte \(position)") }
    func popItem() throws -> (PickleValue, Int) {
      guard case .value(let v, let d)? = stack.popLast() else { throw fail("stack underflow") }
      return (v, d)
    }
    func pop() throws -> PickleValue { try popItem().0 }
    /// The items since the last MARK and their greatest depth.
    func popMark() throws -> ([PickleValue], Int) {
      var items: [PickleValue] = []
      var depth = 0
      while let top = stack.popLast() {
        switch top {
        case .mark: return (items.reversed(), depth)
        case .value(let v, let d):
          items.append(v)
          depth = max(depth, d)
        }
      }
      throw fail("no MARK")
    }
    func push(_ v: PickleValue, depth: Int = 0) throws {
      guard depth <= Self.maxDepth else { throw fail("values nested more than \(Self.maxDepth) deep") }
      stack.append(.value(v, depth: depth))
    }
    func top() throws -> (PickleValue, Int) {
      guard case .value(let v, let d)? = stack.last else { throw fail("empty stack") }
      return (v, d)
    }
    /// Dict keys are strings or numbers (a state dict's are strings).
    func keyName(_ key: PickleValue) throws -> String {
      switch key {
      case .string(let s): return "s" + s
      case .int(let n): return "i\(n)"
      default: throw fail("a dict key that is \(key.kind)")
      }
    }
    func addItems(_ items: [PickleValue], depth: Int) throws {
      guard items.count % 2 == 0, case (.dict(var keys, var values), let d) = try popItem() else { throw fail("SETITEMS on a non-dict") }
      var index: [String: Int] = [:]
      for (i, k) in keys.enumerated() { index[try keyName(k)] = i }
      for pair in stride(from: 0, to: items.count, by: 2) {
        let name = try keyName(items[pair])
        if let i = index[name] { values[i] = items[pair + 1] } else {
          index[name] = keys.count
          keys.append(items[pair])
          values.append(items[pair + 1])
        }
      }
      try push(.dict(keys, values), depth: max(d, depth + 1))
    }
    func append(_ items: [PickleValue], depth: Int) throws {
      guard case (.list(var list), let d) = try popItem() else { throw fail("APPEND on a non-list") }
      list += items
      try push(.list(list), depth: max(d, depth + 1))
    }
    func global(_ module: String, _ name: String) throws -> PickleValue {
      let dotted = "\(module).\(name)"
      guard Self.allowed.contains(dotted) else { throw Failure.forbiddenGlobal(dotted) }
      return .global(dotted)
    }

    while true {
      let op = try byte()
      switch op {
      case 0x80: _ = try byte()  // PROTO
      case 0x95: _ = try take(8)  // FRAME: a length we need not honour
      case 0x2E:  // STOP
        guard stack.count == 1 else { throw fail("STOP with \(stack.count) items on the stack") }
        return try pop()
      case 0x28: stack.append(.mark)  // MARK
      case 0x30:  // POP
        guard stack.popLast() != nil else { throw fail("POP on an empty stack") }
      case 0x4E: try push(.none)
      case 0x88: try push(.bool(true))
      case 0x89: try push(.bool(false))
      case 0x7D: try push(.dict([], []), depth: 1)  // EMPTY_DICT
      case 0x5D: try push(.list([]), depth: 1)  // EMPTY_LIST
      case 0x29: try push(.tuple([]), depth: 1)  // EMPTY_TUPLE
      case 0x74:  // TUPLE
        let (items, depth) = try popMark()
        try push(.tuple(items), depth: depth + 1)
      case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
        let n = Int(op - 0x84)
        guard stack.count >= n else { throw fail("stack underflow") }
        var items: [PickleValue] = []
        var depth = 0
        for _ in 0..<n {
          let (v, d) = try popItem()
          items.insert(v, at: 0)
          depth = max(depth, d)
        }
        try push(.tuple(items), depth: depth + 1)
      case 0x6C:  // LIST
        let (items, depth) = try popMark()
        try push(.list(items), depth: depth + 1)
      case 0x64:  // DICT
        let (items, depth) = try popMark()
        try push(.dict([], []), depth: 1)
        try addItems(items, depth: depth)
      case 0x4B: try push(.int(Int(try byte())))  // BININT1
      case 0x4D: try push(.int(Int(try unsigned(2))))  // BININT2
      case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try unsigned(4)))))  // BININT
      case 0x8A, 0x8B:  // LONG1, LONG4
        let n = op == 0x8A ? Int(try byte()) : try length(4)
        let raw = try take(n)
        if n <= 8 {
          var v: UInt64 = 0
          for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
          if n > 0, n < 8, raw[n - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) }  // sign-extend
          try push(.int(Int(Int64(bitPattern: v))))
        } else {
          try push(.long(raw))
        }
      case 0x47:  // BINFLOAT, big-endian
        try push(.float(Double(bitPattern: try take(8).reduce(0) { $0 << 8 | UInt64($1) })))
      case 0x58: try push(.string(try text(try length(4))))  // BINUNICODE
      case 0x8C: try push(.string(try text(Int(try byte()))))  // SHORT_BINUNICODE
      case 0x8D: try push(.string(try text(try length(8))))  // BINUNICODE8
      case 0x55: try push(.string(try text(Int(try byte()))))  // SHORT_BINSTRING (Python 2 str)
      case 0x54: try push(.string(try text(try length(4))))  // BINSTRING
      case 0x43: try push(.bytes(try take(Int(try byte()))))  // SHORT_BINBYTES
      case 0x42: try push(.bytes(try take(try length(4))))  // BINBYTES
      case 0x63:  // GLOBAL "module\nname\n"
        let module = try line(), name = try line()
        try push(try global(module, name))
      case 0x93:  // STACK_GLOBAL
        guard case .string(let name) = try pop(), case .string(let module) = try pop() else { throw fail("STACK_GLOBAL without names") }
        try push(try global(module, name))
      case 0x71: memo[Int(try byte())] = try top()  // BINPUT
      case 0x72: memo[try length(4)] = try top()  // LONG_BINPUT
      case 0x94: memo[memo.count] = try top()  // MEMOIZE
      case 0x68, 0x6A:  // BINGET, LONG_BINGET
        let key = op == 0x68 ? Int(try byte()) : try length(4)
        guard let (v, d) = memo[key] else { throw fail("memo \(key) is empty") }
        try push(v, depth: d)
      case 0x73:  // SETITEM
        let (value, dv) = try popItem(), (key, dk) = try popItem()
        try addItems([key, value], depth: max(dv, dk))
      case 0x75:  // SETITEMS
        let (items, depth) = try popMark()
        try addItems(items, depth: depth)
      case 0x61:  // APPEND
        let (v, d) = try popItem()
        try append([v], depth: d)
      case 0x65:  // APPENDS
        let (items, depth) = try popMark()
        try append(items, depth: depth)
      case 0x52:  // REDUCE
        let (arguments, depth) = try popItem(), callable = try pop()
        try push(try call(callable, arguments), depth: depth)
      case 0x62:  // BUILD: an OrderedDict's attributes (`_metadata`): dropped
        _ = try pop()
        guard case (.dict, _) = try top() else { throw fail("BUILD on a non-dict") }
      case 0x51:  // BINPERSID
        try push(.storage(try storage(try pop())))
      default:
        throw fail(String(format: "unsupported pickle opcode 0x%02x", op))
      }
    }
  }

  /// REDUCE, for the allowed callables only.
  private func call(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
    guard case .global(let name) = callable, case .tuple(let a) = arguments else {
      throw Failure.malformed("REDUCE on \(callable.kind) at byte \(position)")
    }
    if name == "collections.OrderedDict" {
      // OrderedDict() or, from Python 2, OrderedDict([[key, value], …]).
      guard a.count <= 1 else { throw Failure.malformed("OrderedDict with \(a.count) arguments at byte \(position)") }
      guard case .list(let pairs)? = a.first else { return .dict([], []) }
      var keys: [PickleValue] = [], values: [PickleValue] = []
      for pair in pairs {
        switch pair {
        case .list(let kv) where kv.count == 2, .tuple(let kv) where kv.count == 2:
          keys.append(kv[0])
          values.append(kv[1])
        default: throw Failure.malformed("OrderedDict of \(pair.kind) at byte \(position)")
        }
      }
      return .dict(keys, values)
    }
    guard Self.rebuilders.contains(name), a.count >= 4, case .storage(let storage) = a[0], case .int(let offset) = a[1],
      case .tuple(let size) = a[2], case .tuple(let stride) = a[3]
    else { throw Failure.malformed("\(name) with arguments it does not take at byte \(position)") }
    let shape = try size.map { v -> Int in
      guard case .int(let n) = v, (0...(1 << 30)).contains(n) else { throw Failure.malformed("a tensor size that is \(v.kind)") }
      return n
    }
    let strides = try stride.map { v -> Int in
      guard case .int(let n) = v, (0...(1 << 30)).contains(n) else { throw Failure.malformed("a tensor stride that is \(v.kind)") }
      return n
    }
    guard shape.count == strides.count, shape.count <= 8, (0...(1 << 40)).contains(offset) else {
      throw Failure.malformed("a tensor of \(shape.count) sizes, \(strides.count) strides, offset \(offset)")
    }
    return .tensor(TorchTensorRef(storage: storage, offset: offset, shape: shape, strides: strides))
  }

  /// A persistent id: ('storage', type, key, location, count) or, in the legacy format, with
  /// a sixth item, None or (view key, offset, view count).
  private func storage(_ pid: PickleValue) throws -> TorchStorageRef {
    guard case .tuple(let t) = pid, t.count == 5 || t.count == 6, t[0] == .string("storage"), case .global(let type) = t[1],
      Self.floatStorages[type] != nil, case .int(let count) = t[4], (0...(1 << 40)).contains(count)
    else { throw Failure.malformed("a persistent id (\(pid.kind)) that is not a float storage") }
    let key: String
    switch t[2] {
    case .string(let s): key = s
    case .int(let n): key = String(n)
    default: throw Failure.malformed("a storage key that is \(t[2].kind)")
    }
    var ref = TorchStorageRef(type: type, key: key, count: count)
    if t.count == 6, case .tuple(let view) = t[5] {
      guard view.count == 3, case .string(let viewKey) = view[0], case .int(let offset) = view[1], case .int(let n) = view[2],
        (0...(1 << 40)).contains(offset), (0...(1 << 40)).contains(n)
      else { throw Failure.malformed("a storage view that is \(t[5].kind)") }
      ref = TorchStorageRef(type: type, key: viewKey, count: n, root: (key, offset))
    }
    return ref
  }

  private mutating func byte() throws -> UInt8 {
    guard position < bytes.count else { throw Failure.malformed("the pickle ends early (no STOP)") }
    position += 1
    return bytes[position - 1]
  }

  private mutating func take(_ n: Int) throws -> [UInt8] {
    guard n >= 0, n <= bytes.count - position else { throw Failure.malformed("a length of \(n) bytes runs past the end at byte \(position)") }
    position += n
    return Array(bytes[(position - n)..<position])
  }

  private mutating func unsigned(_ n: Int) throws -> UInt64 {
    try take(n).reversed().reduce(0) { $0 << 8 | UInt64($1) }
  }

  private mutating func length(_ n: Int) throws -> Int {
    let v = try unsigned(n)
    guard v <= UInt64(bytes.count) else { throw Failure.malformed("a length of \(v) bytes runs past the end at byte \(position)") }
    return Int(v)
  }

  private mutating func text(_ n: Int) throws -> String {
    guard let s = String(bytes: try take(n), encoding: .utf8) else { throw Failure.malformed("a string that is not UTF-8 at byte \(position)") }
    return s
  }

  private mutating func line() throws -> String {
    guard let end = bytes[position...].firstIndex(of: 0x0A), end - position <= 256 else {
      throw Failure.malformed("a GLOBAL without its name at byte \(position)")
    }
    let s = String(decoding: bytes[position..<end], as: UTF8.self)
    position = end + 1
    return s
  }
}
