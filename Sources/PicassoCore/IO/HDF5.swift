import CHDF5
import Foundation
import Glibc

/// What went wrong with an HDF5 file; every message names the file and, where there is one,
/// the object path inside it.
public struct HDF5Error: Error, CustomStringConvertible {
  public let file: String
  public let message: String
  public var description: String { "\(file): \(message)" }
}

/// A small typed view of libhdf5: float32 and uint8 datasets (whole or a slab of the first
/// axis), numeric and string attributes, groups created on demand.
public final class HDF5File {
  /// The largest dataset `readFloats`, `readBytes` and `readHalfs` load whole (4 GB of floats).
  nonisolated(unsafe) public static var maxElements = 1 << 30

  /// The number of elements of `shape`, or nil if it overflows or exceeds `limit`.
  public static func elementCount(_ shape: [Int], limit: Int = maxElements) -> Int? {
    var count = 1
    for d in shape {
      guard d >= 0 else { return nil }
      let (product, overflow) = count.multipliedReportingOverflow(by: d)
      guard !overflow, product <= limit else { return nil }
      count = product
    }
    return count
  }
  public enum Mode { case read, readWrite, create }
  public let path: String
  private let id: hid_t

  /// Opens or creates a file. Files created here use the newest format, whose metadata is
  /// checksummed throughout. With `requireChecksums`, a file in an older format (superblock
  /// version 0 or 1: unchecked metadata) is refused before libhdf5 parses it: fuzzing found
  /// that libhdf5 1.10 reads out of bounds or allocates without limit on some damaged headers
  /// of that kind, and the project's own files (models, datasets) never need it.
  public init(_ path: String, mode: Mode = .read, requireChecksums: Bool = false) throws {
    CHDF5_silence_errors()
    self.path = path
    if requireChecksums && mode != .create {
      guard let version = HDF5File.superblockVersion(path) else {
        throw HDF5Error(file: path, message: "cannot open: not an HDF5 file")
      }
      guard version >= 2 else {
        throw HDF5Error(file: path, message: "written in an old HDF5 format without metadata checksums (superblock version \(version)), which picasso does not read for models and datasets; make it again with this picasso")
      }
    }
    let fid: hid_t
    let fapl = mode == .create ? CHDF5_fapl_checksummed() : CHDF5_fapl_unlocked()
    defer { H5Pclose(fapl) }
    switch mode {
    case .read: fid = H5Fopen(path, CHDF5_ACC_RDONLY(), fapl)
    case .readWrite: fid = H5Fopen(path, CHDF5_ACC_RDWR(), fapl)
    case .create: fid = H5Fcreate(path, CHDF5_ACC_TRUNC(), CHDF5_P_DEFAULT(), fapl)
    }
    guard fid >= 0 else {
      throw HDF5Error(file: path, message: mode == .create ? "cannot create the HDF5 file" : "cannot open: not a readable HDF5 file")
    }
    id = fid
  }

  /// The superblock version of an HDF5 file, read from its first bytes: the signature sits at
  /// offset 0, 512, 1024, 2048, … and the version byte follows it. Nil if there is none.
  public static func superblockVersion(_ path: String) -> Int? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
    var offset: UInt64 = 0
    while offset < 1 << 40 {
      guard (try? handle.seek(toOffset: offset)) != nil, let bytes = try? handle.read(upToCount: 9), bytes.count == 9 else { return nil }
      if Array(bytes.prefix(8)) == signature { return Int(bytes[8]) }
      offset = offset == 0 ? 512 : offset * 2
    }
    return nil
  }

  deinit { H5Fclose(id) }

  /// Flushes everything written so far to disk.
  public func flush() { H5Fflush(id, H5F_SCOPE_GLOBAL) }

  private func fail(_ objectPath: String, _ what: String) -> HDF5Error {
    HDF5Error(file: path, message: "'\(objectPath)': \(what)")
  }

  /// True when every component of `objectPath` exists (H5Lexists on each prefix).
  public func exists(_ objectPath: String) -> Bool {
    var prefix = ""
    for part in objectPath.split(separator: "/") {
      prefix += "/" + part
      guard H5Lexists(id, prefix, CHDF5_P_DEFAULT()) > 0 else { return false }
    }
    return true
  }

  /// True when the object at `object` (which must exist) has an attribute `name`.
  public func hasAttribute(_ name: String, of object: String = "/") -> Bool {
    H5Aexists_by_name(id, object, name, CHDF5_P_DEFAULT()) > 0
  }

  /// Names of the links directly under a group, in name order.
  public func children(of group: String = "/") throws -> [String] {
    guard group == "/" || exists(group) else { throw fail(group, "no such group") }
    let gid = H5Gopen2(id, group, CHDF5_P_DEFAULT())
    guard gid >= 0 else { throw fail(group, "not a group") }
    defer { H5Gclose(gid) }
    var info = H5G_info_t()
    H5Gget_info(gid, &info)
    var names: [String] = []
    for i in 0..<info.nlinks {
      let len = H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, CHDF5_P_DEFAULT())
      guard len >= 0 else { continue }
      var buf = [CChar](repeating: 0, count: Int(len) + 1)
      H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, Int(len) + 1, CHDF5_P_DEFAULT())
      names.append(String(cString: buf))
    }
    return names
  }

  // MARK: - Datasets

  private func openDataset(_ name: String) throws -> hid_t {
    guard exists(name) else { throw fail(name, "no such dataset") }
    let did = H5Dopen2(id, name, CHDF5_P_DEFAULT())
    guard did >= 0 else { throw fail(name, "not a dataset") }
    return did
  }

  /// Removes a link (a dataset or group) by name.
  public func remove(_ name: String) throws {
    guard exists(name), H5Ldelete(id, name, CHDF5_P_DEFAULT()) >= 0 else { throw fail(name, "cannot be removed") }
  }

  /// The dimensions of a dataset.
  public func shape(of name: String) throws -> [Int] {
    let did = try openDataset(name)
    defer { H5Dclose(did) }
    return dataspaceShape(H5Dget_space(did))
  }

  private func dataspaceShape(_ sid: hid_t) -> [Int] {
    defer { H5Sclose(sid) }
    let rank = Int(H5Sget_simple_extent_ndims(sid))
    var dims = [hsize_t](repeating: 0, count: max(rank, 1))
    H5Sget_simple_extent_dims(sid, &dims, nil)
    return rank == 0 ? [] : dims.prefix(rank).map { Int($0) }
  }

  /// Reads a whole dataset converted to float32.
  public func readFloats(_ name: String) throws -> (shape: [Int], values: [Float]) {
    try read(name, type: CHDF5_NATIVE_FLOAT(), zero: Float(0))
  }

  /// Reads a whole dataset converted to uint8.
  public func readBytes(_ name: String) throws -> (shape: [Int], values: [UInt8]) {
    try read(name, type: CHDF5_NATIVE_UINT8(), zero: UInt8(0))
  }

  /// Reads a whole dataset converted to uint16 (float16 bit patterns, for one).
  public func readHalfs(_ name: String) throws -> (shape: [Int], values: [UInt16]) {
    try read(name, type: CHDF5_NATIVE_UINT16(), zero: UInt16(0))
  }

  private func read<T>(_ name: String, type: hid_t, zero: T) throws -> (shape: [Int], values: [T]) {
    let did = try openDataset(name)
    defer { H5Dclose(did) }
    let shape = dataspaceShape(H5Dget_space(did))
    // A file can declare any shape: refuse one that would not fit in memory before allocating.
    guard let count = HDF5File.elementCount(shape) else {
      throw fail(name, "declares shape \(shape), more than the limit of \(HDF5File.maxElements) elements (a corrupt or hostile file?)")
    }
    var values = [T](repeating: zero, count: count)
    let status = values.withUnsafeMutableBytes {
      H5Dread(did, type, CHDF5_S_ALL(), CHDF5_S_ALL(), CHDF5_P_DEFAULT(), $0.baseAddress)
    }
    guard status >= 0 else { throw fail(name, "read failed (wrong type or corrupt data)") }
    return (shape, values)
  }

  /// Reads items first..<first+count along the first axis of a uint8 dataset into `into`,
  /// without touching the rest of the file.
  public func readBytes(_ name: String, first: Int, count: Int, into: UnsafeMutableRawPointer) throws {
    let did = try openDataset(name)
    defer { H5Dclose(did) }
    let fileSpace = H5Dget_space(did)
    defer { H5Sclose(fileSpace) }
    let rank = Int(H5Sget_simple_extent_ndims(fileSpace))
    var dims = [hsize_t](repeating: 0, count: max(rank, 1))
    H5Sget_simple_extent_dims(fileSpace, &dims, nil)
    guard rank >= 1, first >= 0, count >= 0, first + count <= Int(dims[0]) else {
      throw fail(name, "items \(first)..<\(first + count) out of range")
    }
    var start = [hsize_t](repeating: 0, count: rank)
    start[0] = hsize_t(first)
    var extent = dims
    extent[0] = hsize_t(count)
    H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, extent, nil)
    let memSpace = H5Screate_simple(Int32(rank), extent, nil)
    defer { H5Sclose(memSpace) }
    guard H5Dread(did, CHDF5_NATIVE_UINT8(), memSpace, fileSpace, CHDF5_P_DEFAULT(), into) >= 0 else {
      throw fail(name, "read failed")
    }
  }

  /// Writes a float32 dataset, creating the groups on its path.
  public func write(_ name: String, shape: [Int], floats: UnsafeBufferPointer<Float>) throws {
    try write(name, shape: shape, fileType: CHDF5_IEEE_F32LE(), memType: CHDF5_NATIVE_FLOAT(),
              bytes: UnsafeRawPointer(floats.baseAddress), count: floats.count)
  }

  public func write(_ name: String, shape: [Int], floats: [Float]) throws {
    try floats.withUnsafeBufferPointer { try write(name, shape: shape, floats: $0) }
  }

  /// Writes a uint8 dataset, creating the groups on its path.
  public func write(_ name: String, shape: [Int], bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes {
      try write(name, shape: shape, fileType: CHDF5_STD_U8LE(), memType: CHDF5_NATIVE_UINT8(),
                bytes: $0.baseAddress, count: bytes.count)
    }
  }

  /// Writes a uint16 dataset (float16 bit patterns, for one), creating the groups on its path.
  public func write(_ name: String, shape: [Int], halfs: [UInt16]) throws {
    try halfs.withUnsafeBytes {
      try write(name, shape: shape, fileType: CHDF5_STD_U16LE(), memType: CHDF5_NATIVE_UINT16(),
                bytes: $0.baseAddress, count: halfs.count)
    }
  }

  private func write(_ name: String, shape: [Int], fileType: hid_t, memType: hid_t,
                     bytes: UnsafeRawPointer?, count: Int) throws {
    guard shape.reduce(1, *) == count else { throw fail(name, "\(count) values for shape \(shape)") }
    let dims = shape.map { hsize_t($0) }
    let sid = H5Screate_simple(Int32(dims.count), dims, nil)
    defer { H5Sclose(sid) }
    let lcpl = H5Pcreate(CHDF5_P_LINK_CREATE())
    defer { H5Pclose(lcpl) }
    H5Pset_create_intermediate_group(lcpl, 1)
    let did = H5Dcreate2(id, name, fileType, sid, lcpl, CHDF5_P_DEFAULT(), CHDF5_P_DEFAULT())
    guard did >= 0 else { throw fail(name, "cannot create the dataset (does it exist already?)") }
    defer { H5Dclose(did) }
    guard H5Dwrite(did, memType, CHDF5_S_ALL(), CHDF5_S_ALL(), CHDF5_P_DEFAULT(), bytes) >= 0 else {
      throw fail(name, "write failed")
    }
  }

  /// Creates an empty uint8 dataset of items shaped `itemShape`, growable along its first
  /// axis and stored in chunks of `chunkItems` items, for `append`.
  public func createGrowingBytes(_ name: String, itemShape: [Int], chunkItems: Int) throws {
    let dims = ([0] + itemShape).map { hsize_t($0) }
    let unlimited = hsize_t.max  // H5S_UNLIMITED
    let maxDims = [unlimited] + itemShape.map { hsize_t($0) }
    let sid = H5Screate_simple(Int32(dims.count), dims, maxDims)
    defer { H5Sclose(sid) }
    let dcpl = H5Pcreate(CHDF5_P_DATASET_CREATE())
    defer { H5Pclose(dcpl) }
    let chunk = ([max(1, chunkItems)] + itemShape).map { hsize_t($0) }
    H5Pset_chunk(dcpl, Int32(chunk.count), chunk)
    let lcpl = H5Pcreate(CHDF5_P_LINK_CREATE())
    defer { H5Pclose(lcpl) }
    H5Pset_create_intermediate_group(lcpl, 1)
    let did = H5Dcreate2(id, name, CHDF5_STD_U8LE(), sid, lcpl, dcpl, CHDF5_P_DEFAULT())
    guard did >= 0 else { throw fail(name, "cannot create the dataset") }
    H5Dclose(did)
  }

  /// Sets a growing dataset's item count without writing anything (unwritten items read as 0).
  public func setItemCount(_ name: String, _ count: Int) throws {
    let did = try openDataset(name)
    defer { H5Dclose(did) }
    var dims = try shape(of: name).map { hsize_t($0) }
    dims[0] = hsize_t(count)
    guard H5Dset_extent(did, dims) >= 0 else { throw fail(name, "cannot resize the dataset") }
  }

  /// Appends `count` items (`bytes` holds them contiguously) to a growing uint8 dataset.
  public func append(_ name: String, bytes: UnsafeRawPointer, count: Int) throws {
    let did = try openDataset(name)
    defer { H5Dclose(did) }
    var dims = try shape(of: name).map { hsize_t($0) }
    let first = dims[0]
    dims[0] += hsize_t(count)
    guard H5Dset_extent(did, dims) >= 0 else { throw fail(name, "cannot grow the dataset") }
    let fileSpace = H5Dget_space(did)
    defer { H5Sclose(fileSpace) }
    var start = [hsize_t](repeating: 0, count: dims.count)
    start[0] = first
    var extent = dims
    extent[0] = hsize_t(count)
    H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, extent, nil)
    let memSpace = H5Screate_simple(Int32(extent.count), extent, nil)
    defer { H5Sclose(memSpace) }
    guard H5Dwrite(did, CHDF5_NATIVE_UINT8(), memSpace, fileSpace, CHDF5_P_DEFAULT(), bytes) >= 0 else {
      throw fail(name, "write failed (disk full?)")
    }
  }

  /// Creates a group and any missing parents.
  public func createGroup(_ name: String) throws {
    if exists(name) { return }
    let lcpl = H5Pcreate(CHDF5_P_LINK_CREATE())
    defer { H5Pclose(lcpl) }
    H5Pset_create_intermediate_group(lcpl, 1)
    let gid = H5Gcreate2(id, name, lcpl, CHDF5_P_DEFAULT(), CHDF5_P_DEFAULT())
    guard gid >= 0 else { throw fail(name, "cannot create the group") }
    H5Gclose(gid)
  }

  // MARK: - Attributes

  /// An attribute's value: numbers (scalar or array) or a string.
  public enum Attribute: Equatable, Sendable {
    case numbers([Double])
    case string(String)
    case strings([String])
  }

  /// Reads an attribute of the object at `object` (a group or dataset; "/" is the file).
  public func attribute(_ name: String, of object: String = "/") throws -> Attribute {
    guard object == "/" || exists(object) else { throw fail(object, "no such object") }
    guard H5Aexists_by_name(id, object, name, CHDF5_P_DEFAULT()) > 0 else {
      throw fail(object, "no attribute '\(name)'")
    }
    let aid = H5Aopen_by_name(id, object, name, CHDF5_P_DEFAULT(), CHDF5_P_DEFAULT())
    guard aid >= 0 else { throw fail(object, "cannot open attribute '\(name)'") }
    defer { H5Aclose(aid) }
    let tid = H5Aget_type(aid)
    defer { H5Tclose(tid) }
    let count = max(1, dataspaceShape(H5Aget_space(aid)).reduce(1, *))
    switch H5Tget_class(tid) {
    case H5T_STRING:
      var strings: [String] = []
      if H5Tis_variable_str(tid) > 0 {
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        let memType = H5Tcopy(CHDF5_C_S1())
        defer { H5Tclose(memType) }
        H5Tset_size(memType, Int(bitPattern: UInt(bitPattern: -1)))  // H5T_VARIABLE
        guard H5Aread(aid, memType, &pointers) >= 0 else { throw fail(object, "cannot read attribute '\(name)'") }
        for p in pointers {
          strings.append(p.map { String(cString: $0) } ?? "")
          free(p)
        }
      } else {
        let size = H5Tget_size(tid)
        var bytes = [UInt8](repeating: 0, count: size * count + 1)
        guard H5Aread(aid, tid, &bytes) >= 0 else { throw fail(object, "cannot read attribute '\(name)'") }
        for i in 0..<count {
          let chunk = bytes[(i * size)..<((i + 1) * size)].prefix { $0 != 0 }
          strings.append(String(decoding: chunk, as: UTF8.self))
        }
      }
      return count == 1 && dataspaceShape(H5Aget_space(aid)).isEmpty ? .string(strings[0]) : .strings(strings)
    case H5T_INTEGER, H5T_FLOAT:
      var values = [Double](repeating: 0, count: count)
      guard H5Aread(aid, CHDF5_NATIVE_DOUBLE(), &values) >= 0 else { throw fail(object, "cannot read attribute '\(name)'") }
      return .numbers(values)
    default:
      throw fail(object, "attribute '\(name)' is neither numbers nor a string")
    }
  }

  public func number(_ name: String, of object: String = "/") throws -> Double {
    guard case .numbers(let v) = try attribute(name, of: object), let first = v.first else {
      throw fail(object, "attribute '\(name)' is not a number")
    }
    return first
  }

  public func string(_ name: String, of object: String = "/") throws -> String {
    guard case .string(let s) = try attribute(name, of: object) else {
      throw fail(object, "attribute '\(name)' is not a string")
    }
    return s
  }

  /// Writes (or replaces) an attribute on an existing object.
  public func setAttribute(_ name: String, _ value: Attribute, of object: String = "/") throws {
    guard object == "/" || exists(object) else { throw fail(object, "no such object") }
    if H5Aexists_by_name(id, object, name, CHDF5_P_DEFAULT()) > 0 {
      H5Adelete_by_name(id, object, name, CHDF5_P_DEFAULT())
    }
    let ok: Bool
    switch value {
    case .numbers(let values):
      let dims = [hsize_t(values.count)]
      let sid = values.count == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, nil)
      defer { H5Sclose(sid) }
      let aid = H5Acreate_by_name(id, object, name, CHDF5_NATIVE_DOUBLE(), sid, CHDF5_P_DEFAULT(), CHDF5_P_DEFAULT(), CHDF5_P_DEFAULT())
      defer { if aid >= 0 { H5Aclose(aid) } }
      ok = aid >= 0 && H5Awrite(aid, CHDF5_NATIVE_DOUBLE(), values) >= 0
    case .string(let s):
      ok = writeFixedStrings(name, [s], scalar: true, object: object)
    case .strings(let list):
      ok = writeFixedStrings(name, list, scalar: false, object: object)
    }
    guard ok else { throw fail(object, "cannot write attribute '\(name)'") }
  }

  private func writeFixedStrings(_ name: String, _ list: [String], scalar: Bool, object: String) -> Bool {
    let size = max(1, list.map { $0.utf8.count }.max() ?? 1)
    var bytes = [UInt8](repeating: 0, count: size * max(list.count, 1))
    for (i, s) in list.enumerated() { for (j, b) in s.utf8.enumerated() { bytes[i * size + j] = b } }
    let tid = H5Tcopy(CHDF5_C_S1())
    defer { H5Tclose(tid) }
    H5Tset_size(tid, size)
    H5Tset_strpad(tid, H5T_STR_NULLPAD)
    let dims = [hsize_t(list.count)]
    let sid = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, nil)
    defer { H5Sclose(sid) }
    let aid = H5Acreate_by_name(id, object, name, tid, sid, CHDF5_P_DEFAULT(), CHDF5_P_DEFAULT(), CHDF5_P_DEFAULT())
    guard aid >= 0 else { return false }
    defer { H5Aclose(aid) }
    return H5Awrite(aid, tid, bytes) >= 0
  }
}
