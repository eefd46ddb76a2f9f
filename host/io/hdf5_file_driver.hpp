// host/io/hdf5_file_driver.hpp - how the HDF5 sink opens its file: a POSIX file driver that
// never follows a link and keeps write failures away from HDF5.
//
// HDF5 1.10 cannot recover from a failed write: H5Fclose then fails, leaves the file's
// identifier half destroyed, and the library's exit handler crashes on it (SIGSEGV in
// H5F__close_cb on a full disk). With this driver a failed write (ENOSPC, EFBIG, EIO) is
// recorded instead of returned: HDF5 goes on as if it had succeeded, the file closes, and
// the sink reports the error (from its error slot) after each batch and at close.
#pragma once

#ifdef QIFSIM_HAVE_HDF5
#include <hdf5.h>

namespace qifsim::detail {

/// A new file access property list (close it with H5Pclose) that selects the driver, or a
/// negative id on failure. Files opened through it are opened with O_NOFOLLOW (and O_EXCL
/// under H5F_ACC_EXCL); the errno of the first failed write or truncation of such a file is
/// stored in `*error_slot`, which must outlive the file (0 stays there while none fails).
hid_t hdf5_file_access_list(int* error_slot);

}  // namespace qifsim::detail
#endif
