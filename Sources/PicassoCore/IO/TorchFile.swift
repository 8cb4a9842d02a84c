import Foundation

/// A PyTorch state dict read without PyTorch: `torch.save`'s zip format (since 1.6) and its
/// legacy format (a run of pickles, then the raw storages), tensors as float32.
///
/// - Zip: `<folder>/data.pkl` is the pickle; storage `k` is the entry `<folder>/data/k`,
///   stored uncompressed (torch writes no other kind).
/// - Legacy: pickles of the magic number 0x1950a86a20f9469cfc6c, the protocol version 1001,
///   the system info, the state dict, and the storage keys in file order; then per key an int64
///   element count and the little-endian elements.
///
/// The pickles go through `Unpickler`, which calls nothing.
public struct TorchStateDict {
  public struct Entry {
    public var name: String
    public var shape: [Int]
    public var values: [Float]
    public init(name: String, shape: [Int], values: [Float]) {
      (self.name, self.shape, self.values) = (name, shape, values)
    }
  }

  /// In the pickle's order.
  public var entries: [Entry]

  public subscript(name: String) -> Entry? { entries.first { $0.name == name } }

  public static func read(_ path: String) throws -> TorchStateDict {
    guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else {
      throw PicassoError.file(path, "no such file")
    }
    // Not read at all when empty: FileManager.contents leaks its buffer on an empty file
    // (swift-foundation, seen under LeakSanitizer while fuzzing).
    guard size > 0 else { throw PicassoError.file(path, "an empty file, not a PyTorch state dict") }
    guard let data = FileManager.default.contents(atPath: path) else { throw PicassoError.file(path, "cannot read the file") }
    let bytes = [UInt8](data)
    do {
      if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return try readZip(bytes) }
      if bytes.first == 0x80 { return try readLegacy(bytes) }
      throw Malformed("neither a zip archive nor a legacy torch.save file")
    } catch let error as Unpickler.Failure {
      throw PicassoError.file(path, error.description)
    } catch let error as Malformed {
      throw PicassoError.file(path, error.why)
    }
  }

  struct Malformed: Error {
    let why: String
    init(_ why: String) { self.why = why }
  }

  static func readZip(_ bytes: [UInt8]) throws -> TorchStateDict {
    let archive = try ZipArchive(bytes)
    guard let pickleName = archive.names.first(where: { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }) else {
      throw Malformed("a zip archive without data.pkl (not written by torch.save)")
    }
    let folder = String(pickleName.dropLast("data.pkl".count))
    var unpickler = Unpickler(try archive.contents(pickleName))
    let root = try unpickler.load()
    return try build(root) { storage in
      let name = "\(folder)data/\(storage.key)"
      guard archive.names.contains(name) else { throw Malformed("storage \(storage.key) is missing (no \(name))") }
      return try archive.contents(name)
    }
  }

  static func readLegacy(_ bytes: [UInt8]) throws -> TorchStateDict {
    var unpickler = Unpickler(bytes)
    let magic = try unpickler.load()
    guard magic == .long([0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]) else {
      throw Malformed("a pickle, but not a torch.save file (no torch.save magic number)")
    }
    guard case .int(1001) = try unpickler.load() else { throw Malformed("an unknown legacy torch.save protocol version") }
    let info = try unpickler.load()
    guard info["little_endian"] != .bool(false) else { throw Malformed("a big-endian torch.save file") }
    let root = try unpickler.load()
    guard case .list(let keyValues) = try unpickler.load() else { throw Malformed("no storage key list after the state dict") }
    // The storages follow in the order of that list: an int64 element count, then the data.
    var storages: [String: [UInt8]] = [:]
    var offset = unpickler.position
    let sizes = Dictionary(referencedStorages(root).map { ($0.root?.key ?? $0.key, $0.elementSize) }, uniquingKeysWith: { a, _ in a })
    for value in keyValues {
      guard case .string(let key) = value else { throw Malformed("a storage key that is \(kind(value))") }
      guard offset + 8 <= bytes.count else { throw Malformed("the file ends before storage \(key)") }
      let count = bytes[offset..<(offset + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
      let size = sizes[key] ?? 4
      guard count <= UInt64(bytes.count) / UInt64(size), offset + 8 + Int(count) * size <= bytes.count else {
        throw Malformed("storage \(key) of \(count) elements runs past the end of the file")
      }
      storages[key] = Array(bytes[(offset + 8)..<(offset + 8 + Int(count) * size)])
      offset += 8 + Int(count) * size
    }
    return try build(root) { storage in
      guard let raw = storages[storage.root?.key ?? storage.key] else { throw Malformed("storage \(storage.key) is missing") }
      guard let view = storage.root else { return raw }
      let size = storage.elementSize
      guard view.offset + storage.count <= raw.count / size else { throw Malformed("storage view \(storage.key) runs past its root") }
      return Array(raw[(view.offset * size)..<((view.offset + storage.count) * size)])
    }
  }

  static func referencedStorages(_ root: PickleValue) -> [TorchStorageRef] {
    guard case .dict(_, let values) = root else { return [] }
    return values.compactMap { if case .tensor(let t) = $0 { return t.storage } else { return nil } }
  }

  /// The state dict from its pickle: string keys to tensors, each copied out of its storage.
  static func build(_ root: PickleValue, storage: (TorchStorageRef) throws -> [UInt8]) throws -> TorchStateDict {
    guard case .dict(let keys, let values) = root else { throw Malformed("the pickle holds \(kind(root)), not a state dict") }
    guard keys.count <= 100_000 else { throw Malformed("a state dict of \(keys.count) entries") }
    var cache: [String: [UInt8]] = [:]
    var entries: [Entry] = []
    for (key, value) in zip(keys, values) {
      guard case .string(let name) = key else { throw Malformed("a state dict key that is \(kind(key)), not a string") }
      guard case .tensor(let t) = value else { throw Malformed("'\(name)' holds \(kind(value)), not a tensor") }
      let raw = try cache[t.storage.key] ?? storage(t.storage)
      cache[t.storage.key] = raw
      let size = t.storage.elementSize
      let available = raw.count / size
      guard available >= t.storage.count else { throw Malformed("storage \(t.storage.key) holds \(available) elements, not \(t.storage.count)") }
      // Sizes and strides are at most 2^30 each (checked by the unpickler); a state dict's
      // tensor never holds more elements than its storage.
      var count = 1, last = t.offset
      for (size, stride) in zip(t.shape, t.strides) {
        let (c, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, c <= available || size == 0 else { throw Malformed("'\(name)' has more elements than its storage") }
        count = c
        if size > 0 { last += (size - 1) * stride }
        guard last < Int(Int32.max) * 4 else { throw Malformed("'\(name)' reaches past its storage") }
      }
      guard count <= available, count == 0 || (t.offset < available && last < available) else {
        throw Malformed("'\(name)' reaches past its storage")
      }
      var values = [Float](repeating: 0, count: count)
      raw.withUnsafeBytes { p in
        func element(_ i: Int) -> Float {
          switch t.storage.type {
          case "torch.DoubleStorage": return Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
          case "torch.HalfStorage": return Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
          case "torch.BFloat16Storage":
            return Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
          default: return Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
          }
        }
        // Row-major walk over the shape, through the strides.
        var index = [Int](repeating: 0, count: t.shape.count)
        for k in 0..<count {
          var at = t.offset
          for d in 0..<index.count { at += index[d] * t.strides[d] }
          values[k] = element(at)
          var d = index.count - 1
          while d >= 0 {
            index[d] += 1
            if index[d] < t.shape[d] { break }
            index[d] = 0
            d -= 1
          }
        }
      }
      entries.append(Entry(name: name, shape: t.shape, values: values))
    }
    return TorchStateDict(entries: entries)
  }

  /// What a value is, in a few words (never the whole value: a hostile pickle can make a
  /// small file describe an exponentially large one).
  static func kind(_ v: PickleValue) -> String { v.kind }
}

/// The entries of a zip archive, read from its central directory (ZIP64 included); only
/// stored (uncompressed) entries can be read.
struct ZipArchive {
  struct Entry {
    var method: Int
    var size: Int
    var localHeader: Int
  }

  let bytes: [UInt8]
  private(set) var entries: [String: Entry] = [:]
  private(set) var names: [String] = []

  init(_ bytes: [UInt8]) throws {
    self.bytes = bytes
    func u16(_ at: Int) throws -> Int {
      guard at >= 0, at + 2 <= bytes.count else { throw TorchStateDict.Malformed("a truncated zip archive") }
      return Int(bytes[at]) | Int(bytes[at + 1]) << 8
    }
    func u32(_ at: Int) throws -> Int { try u16(at) | u16(at + 2) << 16 }
    func u64(_ at: Int) throws -> Int {
      let v = UInt64(try u32(at)) | UInt64(try u32(at + 4)) << 32
      guard v <= UInt64(bytes.count) else { throw TorchStateDict.Malformed("a zip offset past the end of the file") }
      return Int(v)
    }
    // The end-of-central-directory record: in the last 64 KiB + 22 bytes.
    var end = -1
    var at = bytes.count - 22
    while at >= max(0, bytes.count - 22 - 65535) {
      if try u32(at) == 0x0605_4B50 {
        end = at
        break
      }
      at -= 1
    }
    guard end >= 0 else { throw TorchStateDict.Malformed("a zip archive without its central directory") }
    var count = try u16(end + 10)
    var directory = try u32(end + 16)
    if count == 0xFFFF || directory == 0xFFFF_FFFF {  // ZIP64: the locator sits just before
      let locator = end - 20
      guard try u32(locator) == 0x0706_4B50 else { throw TorchStateDict.Malformed("a ZIP64 archive without its locator") }
      let record = try u64(locator + 8)
      guard try u32(record) == 0x0606_4B50 else { throw TorchStateDict.Malformed("a ZIP64 archive without its end record") }
      count = try u64(record + 32)
      directory = try u64(record + 48)
    }
    var p = directory
    for _ in 0..<count {
      guard try u32(p) == 0x0201_4B50 else { throw TorchStateDict.Malformed("a damaged zip central directory") }
      let method = try u16(p + 10)
      var size = try u32(p + 24)
      let nameLength = try u16(p + 28), extraLength = try u16(p + 30), commentLength = try u16(p + 32)
      var local = try u32(p + 42)
      guard p + 46 + nameLength <= bytes.count else { throw TorchStateDict.Malformed("a truncated zip archive") }
      let name = String(decoding: bytes[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
      // ZIP64 extra field: the 64-bit values of the fields set to 0xFFFFFFFF, in order.
      var e = p + 46 + nameLength
      while e + 4 <= p + 46 + nameLength + extraLength {
        let id = try u16(e), length = try u16(e + 2)
        if id == 0x0001 {
          var q = e + 4
          if size == 0xFFFF_FFFF {
            size = try u64(q)
            q += 8
          }
          if try u32(p + 20) == 0xFFFF_FFFF { q += 8 }  // compressed size
          if local == 0xFFFF_FFFF { local = try u64(q) }
        }
        e += 4 + length
      }
      entries[name] = Entry(method: method, size: size, localHeader: local)
      names.append(name)
      p += 46 + nameLength + extraLength + commentLength
    }
  }

  func contents(_ name: String) throws -> [UInt8] {
    guard let entry = entries[name] else { throw TorchStateDict.Malformed("no entry \(name) in the zip archive") }
    guard entry.method == 0 else {
      throw TorchStateDict.Malformed("\(name) is compressed (method \(entry.method)); torch.save stores its entries uncompressed")
    }
    let h = entry.localHeader
    guard h + 30 <= bytes.count, bytes[h..<(h + 4)].elementsEqual([0x50, 0x4B, 0x03, 0x04]) else {
      throw TorchStateDict.Malformed("a damaged zip entry \(name)")
    }
    let start = h + 30 + (Int(bytes[h + 26]) | Int(bytes[h + 27]) << 8) + (Int(bytes[h + 28]) | Int(bytes[h + 29]) << 8)
    guard start + entry.size <= bytes.count else { throw TorchStateDict.Malformed("zip entry \(name) runs past the end of the file") }
    return Array(bytes[start..<(start + entry.size)])
  }
}
