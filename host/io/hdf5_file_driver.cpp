// host/io/hdf5_file_driver.cpp - the HDF5 sink's file driver (see hdf5_file_driver.hpp):
// pread/pwrite on one descriptor, as HDF5's own "sec2" driver, with two differences: files
// are opened with O_NOFOLLOW, and write failures are recorded rather than handed to HDF5.
#include "io/hdf5_file_driver.hpp"

#ifdef QIFSIM_HAVE_HDF5
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>

namespace qifsim::detail {
namespace {

// The largest address an off_t can hold, as sec2 allows.
constexpr haddr_t kMaxAddr = (haddr_t{1} << (8 * sizeof(off_t) - 1)) - 1;

// The driver's part of a file access property list (copied by HDF5 byte for byte).
struct DriverInfo {
  int* error_slot;
};

struct PosixFile {
  H5FD_t pub;  // first: HDF5 fills and reads it through the H5FD_t pointer
  int fd = -1;
  haddr_t eoa = 0;  // end of the address space HDF5 has allocated
  haddr_t eof = 0;  // end of the file on disk
  dev_t device = 0;
  ino_t inode = 0;
  int write_errno = 0;  // the first failed write or truncation; later writes are dropped
  int* error_slot = nullptr;  // where the owner reads write_errno, also after close

  void fail(int err) {
    write_errno = err;
    if (error_slot != nullptr && *error_slot == 0) *error_slot = err;
  }
};

PosixFile* as_file(H5FD_t* f) { return reinterpret_cast<PosixFile*>(f); }
const PosixFile* as_file(const H5FD_t* f) { return reinterpret_cast<const PosixFile*>(f); }

bool out_of_range(haddr_t addr, size_t size) {
  return addr == HADDR_UNDEF || addr > kMaxAddr || size > kMaxAddr || addr + size > kMaxAddr;
}

H5FD_t* open_file(const char* name, unsigned flags, hid_t fapl, haddr_t maxaddr) {
  if (name == nullptr || *name == '\0' || maxaddr == 0 || maxaddr == HADDR_UNDEF) return nullptr;
  int oflags = O_CLOEXEC | O_NOFOLLOW;
  oflags |= (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
  if (flags & H5F_ACC_TRUNC) oflags |= O_TRUNC;
  if (flags & H5F_ACC_CREAT) oflags |= O_CREAT;
  if (flags & H5F_ACC_EXCL) oflags |= O_EXCL;
  int fd = -1;
  do {
    fd = ::open(name, oflags, 0666);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return nullptr;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return nullptr;
  }
  auto* file = new (std::nothrow) PosixFile{};
  if (file == nullptr) {
    ::close(fd);
    return nullptr;
  }
  const auto* info = static_cast<const DriverInfo*>(H5Pget_driver_info(fapl));
  file->error_slot = info != nullptr ? info->error_slot : nullptr;
  file->fd = fd;
  file->eof = static_cast<haddr_t>(st.st_size);
  file->device = st.st_dev;
  file->inode = st.st_ino;
  return &file->pub;
}

herr_t close_file(H5FD_t* f) {
  PosixFile* file = as_file(f);
  if (::close(file->fd) != 0 && file->write_errno == 0) file->fail(errno);  // e.g. NFS reports here
  delete file;
  return 0;
}

int compare(const H5FD_t* a, const H5FD_t* b) {
  const PosixFile* x = as_file(a);
  const PosixFile* y = as_file(b);
  if (x->device != y->device) return x->device < y->device ? -1 : 1;
  if (x->inode != y->inode) return x->inode < y->inode ? -1 : 1;
  return 0;
}

herr_t query(const H5FD_t* /*f*/, unsigned long* flags) {
  if (flags) {
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
             H5FD_FEAT_AGGREGATE_SMALLDATA | H5FD_FEAT_POSIX_COMPAT_HANDLE;
  }
  return 0;
}

haddr_t get_eoa(const H5FD_t* f, H5FD_mem_t /*type*/) { return as_file(f)->eoa; }

herr_t set_eoa(H5FD_t* f, H5FD_mem_t /*type*/, haddr_t addr) {
  if (addr == HADDR_UNDEF || addr > kMaxAddr) return -1;
  as_file(f)->eoa = addr;
  return 0;
}

haddr_t get_eof(const H5FD_t* f, H5FD_mem_t /*type*/) { return as_file(f)->eof; }

herr_t get_handle(H5FD_t* f, hid_t /*fapl*/, void** handle) {
  if (!handle) return -1;
  *handle = &as_file(f)->fd;
  return 0;
}

herr_t read_file(H5FD_t* f, H5FD_mem_t /*type*/, hid_t /*dxpl*/, haddr_t addr, size_t size, void* buffer) {
  PosixFile* file = as_file(f);
  if (out_of_range(addr, size) || addr + size > file->eoa) return -1;
  auto* out = static_cast<unsigned char*>(buffer);
  while (size > 0) {
    const ssize_t n = ::pread(file->fd, out, size, static_cast<off_t>(addr));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) {  // past the end of the file: zeros, as HDF5 expects
      std::memset(out, 0, size);
      break;
    }
    out += n;
    addr += static_cast<haddr_t>(n);
    size -= static_cast<size_t>(n);
  }
  return 0;
}

herr_t write_file(H5FD_t* f, H5FD_mem_t /*type*/, hid_t /*dxpl*/, haddr_t addr, size_t size, const void* buffer) {
  PosixFile* file = as_file(f);
  if (out_of_range(addr, size) || addr + size > file->eoa) return -1;
  if (file->write_errno != 0) return 0;  // the file is incomplete already; see the header
  const auto* in = static_cast<const unsigned char*>(buffer);
  while (size > 0) {
    const ssize_t n = ::pwrite(file->fd, in, size, static_cast<off_t>(addr));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      file->fail(n < 0 ? errno : EIO);
      return 0;
    }
    in += n;
    addr += static_cast<haddr_t>(n);
    size -= static_cast<size_t>(n);
  }
  if (addr > file->eof) file->eof = addr;
  return 0;
}

herr_t truncate_file(H5FD_t* f, hid_t /*dxpl*/, hbool_t /*closing*/) {
  PosixFile* file = as_file(f);
  if (file->eoa == file->eof || file->write_errno != 0) return 0;
  if (::ftruncate(file->fd, static_cast<off_t>(file->eoa)) != 0) {
    file->fail(errno);
    return 0;
  }
  file->eof = file->eoa;
  return 0;
}

H5FD_class_t make_class() noexcept {
  H5FD_class_t c;
  std::memset(&c, 0, sizeof(c));
#if H5_VERSION_GE(1, 14, 0)
  c.version = H5FD_CLASS_VERSION;
  c.value = static_cast<H5FD_class_value_t>(511);  // in HDF5's range for unregistered drivers
#endif
  c.name = "qifsim_posix";
  c.maxaddr = kMaxAddr;
  c.fc_degree = H5F_CLOSE_WEAK;
  c.fapl_size = sizeof(DriverInfo);
  c.open = open_file;
  c.close = close_file;
  c.cmp = compare;
  c.query = query;
  c.get_eoa = get_eoa;
  c.set_eoa = set_eoa;
  c.get_eof = get_eof;
  c.get_handle = get_handle;
  c.read = read_file;
  c.write = write_file;
  c.truncate = truncate_file;
  const H5FD_mem_t map[H5FD_MEM_NTYPES] = H5FD_FLMAP_DICHOTOMY;
  for (int i = 0; i < H5FD_MEM_NTYPES; ++i) c.fl_map[i] = map[i];
  return c;
}

const H5FD_class_t kClass = make_class();

hid_t driver_id() {
  static std::mutex mutex;
  static hid_t id = H5I_INVALID_HID;
  const std::lock_guard<std::mutex> lock(mutex);
  // The id stays valid until HDF5 is closed (H5close), after which it is registered anew.
  if (id < 0 || H5Iis_valid(id) <= 0) id = H5FDregister(&kClass);
  return id;
}

}  // namespace

hid_t hdf5_file_access_list(int* error_slot) {
  const hid_t driver = driver_id();
  if (driver < 0) return H5I_INVALID_HID;
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return H5I_INVALID_HID;
  const DriverInfo info{error_slot};
  if (H5Pset_driver(fapl, driver, &info) < 0) {
    H5Pclose(fapl);
    return H5I_INVALID_HID;
  }
  return fapl;
}

}  // namespace qifsim::detail
#endif
