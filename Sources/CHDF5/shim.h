// libhdf5 for Swift. HDF5's type and property-list "constants" are macros over global ids
// that must be initialised first (`(H5OPEN H5T_NATIVE_FLOAT_g)`), comma expressions Swift
// cannot import; each one the package uses becomes a prefixed inline function here.
#include <hdf5.h>

#define CHDF5_SHIM static inline __attribute__((__always_inline__))

CHDF5_SHIM hid_t CHDF5_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
CHDF5_SHIM hid_t CHDF5_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
CHDF5_SHIM hid_t CHDF5_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
CHDF5_SHIM hid_t CHDF5_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
CHDF5_SHIM hid_t CHDF5_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
CHDF5_SHIM hid_t CHDF5_STD_U8LE(void) { return H5T_STD_U8LE; }
CHDF5_SHIM hid_t CHDF5_STD_U16LE(void) { return H5T_STD_U16LE; }
CHDF5_SHIM hid_t CHDF5_NATIVE_UINT16(void) { return H5T_NATIVE_UINT16; }
CHDF5_SHIM hid_t CHDF5_C_S1(void) { return H5T_C_S1; }
CHDF5_SHIM unsigned CHDF5_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
CHDF5_SHIM unsigned CHDF5_ACC_RDWR(void) { return H5F_ACC_RDWR; }
CHDF5_SHIM unsigned CHDF5_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
CHDF5_SHIM hid_t CHDF5_P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
CHDF5_SHIM hid_t CHDF5_P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
CHDF5_SHIM hid_t CHDF5_P_DEFAULT(void) { return H5P_DEFAULT; }
CHDF5_SHIM hid_t CHDF5_S_ALL(void) { return H5S_ALL; }

/// File-access properties without HDF5's file locks. libhdf5 takes an flock() on every file it
/// opens (exclusive while writing), and an open fails, as "not a readable HDF5 file", while
/// anyone else holds such a lock; that is the error a trainer test once met opening the dataset
/// it had just built, with other suites' threads and processes running beside it (what held
/// the lock was not found). picasso publishes every file it writes by renaming a finished
/// temporary file, so readers never see one half written and the locks protect nothing;
/// without them files also open on file systems that refuse flock(). Close with H5Pclose.
CHDF5_SHIM hid_t CHDF5_fapl_unlocked(void) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0) H5Pset_file_locking(fapl, 0, 1);
  return fapl;
}

/// File-access properties for writing with the newest file format of the library (superblock
/// version 3, version 2 object headers): every piece of metadata carries a checksum that the
/// reader verifies, so a damaged file is refused instead of parsed. No file locks (above).
/// Close with H5Pclose.
CHDF5_SHIM hid_t CHDF5_fapl_checksummed(void) {
  hid_t fapl = CHDF5_fapl_unlocked();
  if (fapl >= 0) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  return fapl;
}

/// Stops HDF5 from printing its error stack on stderr: the Swift side reports errors itself,
/// naming the file and the path.
CHDF5_SHIM void CHDF5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
