// wasi:filesystem (types, preopens) over Linux file descriptors.
//
// Sandboxing. A guest names files by paths relative to a descriptor it holds and must never reach
// anything outside the preopened directory that descriptor descends from: not with `..`, not with
// an absolute path, not through a symlink (planted by the guest or already there), not by racing
// renames against a check. So no path is ever checked and then used: every lookup is done by the
// kernel with openat2(2) and RESOLVE_BENEATH, which refuses any walk that would leave the starting
// directory (EXDEV, reported as `not-permitted` as wasmtime does). On top of that:
//  - operations on a *name* (create-directory, unlink, remove-directory, rename, link, symlink)
//    open the name's parent directory beneath the descriptor and hand only the final component to
//    the *at(2) call. Those calls never act on what a final symlink points to, even with a
//    trailing slash, and refuse "." and ".." as final components (link's source can only be a
//    directory then, which cannot be linked), so they cannot act outside either. The final
//    component keeps its trailing slashes so the kernel applies its own trailing-slash rules.
//  - operations on an *object* (stat-at, set-times-at, readlink-at, metadata-hash-at) open the
//    object itself beneath the descriptor with O_PATH (plus O_NOFOLLOW unless symlink-follow) and
//    then work on that descriptor with AT_EMPTY_PATH.
// This needs Linux 5.8 (openat2 is 5.6, AT_EMPTY_PATH for utimensat 5.8); Debian 12 ships 6.1.
//
// Permissions. A descriptor records the descriptor-flags it was opened with and whether the tree
// it belongs to may be modified, which comes from its preopen (`Preopen::writable`) and is
// inherited by everything opened beneath it. Mutating calls on a read-only tree fail with
// `not-permitted` before touching the file system, and open-at never grants writing, creation,
// truncation or mutate-directory beneath a read-only directory. (A directory opened beneath a
// writable one may be modified whether or not it was opened with mutate-directory, which it only
// reports when asked for: the preview 1 adapter every wasip1 program goes through never asks for
// it, yet creates files in the directories it opens. wasmtime behaves the same way.)
//
// Error codes follow wasmtime, the host the wasi-testsuite expectations come from: errno values map
// one-to-one onto error-code cases (the table below); path escapes are `not-permitted`; data
// operations on a directory are `bad-descriptor` (reading through a stream: `is-directory`); path
// operations on a file are `not-directory`.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "base/binary.h"
#include "base/hash.h"
#include "wasi/p2/ctx.h"

namespace cumulus::wasi {

using component::CallContext;
using component::Val;
using Args = std::vector<Val>;

namespace {

// wasi:filesystem/types.error-code, in WIT order, each with the errno it stands for (Linux, where
// EAGAIN == EWOULDBLOCK, ENOTSUP == EOPNOTSUPP and EDEADLK == EDEADLOCK).
#define CUMULUS_FS_ERROR_CODES(X)     \
  X(kAccess, EACCES)                  \
  X(kWouldBlock, EAGAIN)              \
  X(kAlready, EALREADY)               \
  X(kBadDescriptor, EBADF)            \
  X(kBusy, EBUSY)                     \
  X(kDeadlock, EDEADLK)               \
  X(kQuota, EDQUOT)                   \
  X(kExist, EEXIST)                   \
  X(kFileTooLarge, EFBIG)             \
  X(kIllegalByteSequence, EILSEQ)     \
  X(kInProgress, EINPROGRESS)         \
  X(kInterrupted, EINTR)              \
  X(kInvalid, EINVAL)                 \
  X(kIo, EIO)                         \
  X(kIsDirectory, EISDIR)             \
  X(kLoop, ELOOP)                     \
  X(kTooManyLinks, EMLINK)            \
  X(kMessageSize, EMSGSIZE)           \
  X(kNameTooLong, ENAMETOOLONG)       \
  X(kNoDevice, ENODEV)                \
  X(kNoEntry, ENOENT)                 \
  X(kNoLock, ENOLCK)                  \
  X(kInsufficientMemory, ENOMEM)      \
  X(kInsufficientSpace, ENOSPC)       \
  X(kNotDirectory, ENOTDIR)           \
  X(kNotEmpty, ENOTEMPTY)             \
  X(kNotRecoverable, ENOTRECOVERABLE) \
  X(kUnsupported, ENOTSUP)            \
  X(kNoTty, ENOTTY)                   \
  X(kNoSuchDevice, ENXIO)             \
  X(kOverflow, EOVERFLOW)             \
  X(kNotPermitted, EPERM)             \
  X(kPipe, EPIPE)                     \
  X(kReadOnly, EROFS)                 \
  X(kInvalidSeek, ESPIPE)             \
  X(kTextFileBusy, ETXTBSY)           \
  X(kCrossDevice, EXDEV)

enum class Code : uint32_t {
#define CUMULUS_FS_ENUM(name, err) name,
  CUMULUS_FS_ERROR_CODES(CUMULUS_FS_ENUM)
#undef CUMULUS_FS_ENUM
};

Code codeFromErrno(int err) {
  switch (err) {
#define CUMULUS_FS_CASE(name, e) \
  case e:                        \
    return Code::name;
    CUMULUS_FS_ERROR_CODES(CUMULUS_FS_CASE)
#undef CUMULUS_FS_CASE
    case ENOSYS:
      return Code::kUnsupported;
    default:
      return Code::kIo;  // errno values with no error-code of their own
  }
}

Val fail(Code code) { return Val::err(Val::enumCase(static_cast<uint32_t>(code))); }
Val failErrno(int err) { return fail(codeFromErrno(err)); }

// WIT flag bits and enum cases this file reads or writes.
constexpr uint32_t kFlagRead = 1 << 0, kFlagWrite = 1 << 1, kFlagFileSync = 1 << 2,
                   kFlagDataSync = 1 << 3, kFlagReadSync = 1 << 4, kFlagMutateDir = 1 << 5;
constexpr uint32_t kSymlinkFollow = 1 << 0;  // path-flags
constexpr uint32_t kOpenCreate = 1 << 0, kOpenDirectory = 1 << 1, kOpenExclusive = 1 << 2,
                   kOpenTruncate = 1 << 3;  // open-flags
enum class DescriptorType : uint32_t {
  kUnknown,
  kBlockDevice,
  kCharacterDevice,
  kDirectory,
  kFifo,
  kSymbolicLink,
  kRegularFile,
  kSocket,
};

// Reads from a file are served in chunks of at most this many bytes (the guest names the length,
// so it must not size our allocation).
constexpr uint64_t kMaxRead = 1 << 20;

// A file descriptor with one owner: closed when the owner goes away.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(OwnedFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() { reset(); }
  int get() const { return fd_; }

 private:
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

struct Descriptor : Object {
  // Shared with the streams reading or writing the file, which may outlive the handle.
  std::shared_ptr<OwnedFd> fd;
  bool is_dir = false;
  bool mutable_tree = false;  // the preopen it descends from may be modified
  uint32_t flags = 0;         // descriptor-flags: what it was opened for
  int raw() const { return fd->get(); }
};

struct DirectoryEntryStream : Object {
  explicit DirectoryEntryStream(DIR* d) : dir(d) {}
  ~DirectoryEntryStream() override { ::closedir(dir); }
  DIR* dir;
};

Descriptor& descriptor(CallContext& cx, const Val& handle) {
  return ctx(cx).table().get<Descriptor>(handle);
}

// ---- path resolution (see the essay at the top) ----

// Paths are refused before the kernel sees them when it would read them differently from the
// guest: an embedded NUL would cut the path short, and an absolute path is an escape by definition.
int checkPath(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return EINVAL;
  if (!path.empty() && path.front() == '/') return EPERM;
  return 0;
}

// openat2(2) confined beneath `dirfd`. Returns the new descriptor or -errno.
int openBeneath(int dirfd, const std::string& path, uint64_t flags, uint64_t mode = 0) {
  if (int e = checkPath(path)) return -e;
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.mode = (flags & O_CREAT) ? mode : 0;  // openat2 rejects a mode without O_CREAT
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    int err = errno;
    // EAGAIN: a rename or mount elsewhere made the kernel unsure the walk stayed beneath; it asks
    // to be retried.
    if (err == EINTR || (err == EAGAIN && attempt < 32)) continue;
    return err == EXDEV ? -EPERM : -err;
  }
}

// The directory holding a path's final component, opened beneath the descriptor, and that
// component (with any trailing slashes, so the kernel applies its trailing-slash rules).
struct Parent {
  OwnedFd owned;  // empty when the parent is the descriptor itself
  int fd = -1;
  std::string name;
};

int openParent(const Descriptor& d, const std::string& path, Parent& out) {
  if (int e = checkPath(path)) return e;
  size_t last = path.find_last_not_of('/');
  if (last == std::string::npos) {  // "": the kernel's answer (no-entry) is the right one
    out.fd = d.raw();
    out.name = path;
    return 0;
  }
  size_t slash = path.rfind('/', last);
  size_t start = slash == std::string::npos ? 0 : slash + 1;
  std::string_view final_name = std::string_view(path).substr(start, last + 1 - start);
  // A final ".." or a trailing slash (which makes a final symlink count) can name something
  // outside. The kernel refuses to act on those names anyway, but with its own error (ENOTEMPTY,
  // ENOTDIR, EEXIST...); an escape is reported as not-permitted, as wasmtime does. This lookup
  // only picks the error code: what is done is still decided by the confined call below.
  if (final_name == ".." || last + 1 < path.size()) {
    int fd = openBeneath(d.raw(), path, O_PATH);
    if (fd == -EPERM) return EPERM;
    if (fd >= 0) ::close(fd);
  }
  if (slash == std::string::npos) {
    out.fd = d.raw();
    out.name = path;
    return 0;
  }
  int fd = openBeneath(d.raw(), path.substr(0, slash + 1), O_PATH | O_DIRECTORY);
  if (fd < 0) return -fd;
  out.owned = OwnedFd(fd);
  out.fd = fd;
  out.name = path.substr(slash + 1);
  return 0;
}

// The object a path names, as an O_PATH descriptor (the symlink itself unless `follow`).
int openObject(const Descriptor& d, const std::string& path, bool follow, OwnedFd& out) {
  int fd = openBeneath(d.raw(), path, O_PATH | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0) return -fd;
  out = OwnedFd(fd);
  return 0;
}

// Path operations need a directory, and those that change something a mutable tree.
int checkDir(const Descriptor& d, bool mutating) {
  if (!d.is_dir) return ENOTDIR;
  if (mutating && !d.mutable_tree) return EPERM;
  return 0;
}

// The checks and parent lookup every mutating operation on a name starts with.
int checkDirAndParent(const Descriptor& d, const std::string& path, Parent& out) {
  if (int e = checkDir(d, true)) return e;
  return openParent(d, path, out);
}

// ---- values ----

DescriptorType typeOf(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFBLK:
      return DescriptorType::kBlockDevice;
    case S_IFCHR:
      return DescriptorType::kCharacterDevice;
    case S_IFDIR:
      return DescriptorType::kDirectory;
    case S_IFIFO:
      return DescriptorType::kFifo;
    case S_IFLNK:
      return DescriptorType::kSymbolicLink;
    case S_IFREG:
      return DescriptorType::kRegularFile;
    case S_IFSOCK:
      return DescriptorType::kSocket;
    default:
      return DescriptorType::kUnknown;
  }
}

Val typeVal(DescriptorType t) { return Val::enumCase(static_cast<uint32_t>(t)); }

// option<datetime>: none for times before 1970, which datetime cannot express.
Val timestamp(const timespec& ts) {
  if (ts.tv_sec < 0) return Val::none();
  return Val::some(Val::record(
      {Val::u64(static_cast<uint64_t>(ts.tv_sec)), Val::u32(static_cast<uint32_t>(ts.tv_nsec))}));
}

Val statVal(const struct stat& st) {
  return Val::record({typeVal(typeOf(st.st_mode)), Val::u64(st.st_nlink),
                      Val::u64(static_cast<uint64_t>(st.st_size)), timestamp(st.st_atim),
                      timestamp(st.st_mtim), timestamp(st.st_ctim)});
}

// metadata-hash-value: a hash of the file's identity (device and inode), so guests can compare
// files without learning host inode numbers.
Val metadataHash(const struct stat& st) {
  uint64_t identity[2] = {st.st_dev, st.st_ino};
  Sha256 h = sha256({reinterpret_cast<const uint8_t*>(identity), sizeof identity});
  uint64_t lower, upper;
  std::memcpy(&lower, h.data(), 8);
  std::memcpy(&upper, h.data() + 8, 8);
  return Val::record({Val::u64(lower), Val::u64(upper)});
}

// new-timestamp → the timespec utimensat(2) takes. Returns 0 or an errno.
int newTimestamp(const Val& v, timespec& out) {
  switch (v.discriminant()) {
    case 0:  // no-change
      out = {0, UTIME_OMIT};
      return 0;
    case 1:  // now
      out = {0, UTIME_NOW};
      return 0;
    default: {  // timestamp(datetime)
      const auto& dt = v.payload().elems();
      uint64_t seconds = dt[0].asU64();
      uint32_t nanos = dt[1].asU32();
      if (seconds > static_cast<uint64_t>(std::numeric_limits<time_t>::max())) return EOVERFLOW;
      if (nanos >= 1'000'000'000) return EINVAL;
      out = {static_cast<time_t>(seconds), static_cast<long>(nanos)};
      return 0;
    }
  }
}

int newTimestamps(const Val& atime, const Val& mtime, timespec (&out)[2]) {
  if (int e = newTimestamp(atime, out[0])) return e;
  return newTimestamp(mtime, out[1]);
}

Val unitResult(int rc) { return rc == 0 ? Val::okUnit() : failErrno(errno); }

// ---- descriptors ----

Expected<std::unique_ptr<Object>> openPreopen(const Preopen& p) {
  int fd = ::open(p.host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return makeError(ErrorCode::kNotFound, "cannot open preopened directory {} ({}): {}",
                     p.host_path, p.guest_path, std::strerror(errno));
  auto d = std::make_unique<Descriptor>();
  d->fd = std::make_shared<OwnedFd>(fd);
  d->is_dir = true;
  d->mutable_tree = p.writable;
  d->flags = kFlagRead | (p.writable ? kFlagMutateDir : 0);
  return std::unique_ptr<Object>(std::move(d));
}

Val openAt(CallContext& cx, const Types& t, Args& a) {
  Descriptor& d = descriptor(cx, a[0]);
  uint32_t path_flags = a[1].flagBits();
  const std::string& path = a[2].asString();
  uint32_t open_flags = a[3].flagBits();
  uint32_t flags = a[4].flagBits();
  if (!d.is_dir) return fail(Code::kNotDirectory);
  bool create = open_flags & kOpenCreate, truncate = open_flags & kOpenTruncate;
  bool exclusive = open_flags & kOpenExclusive, directory = open_flags & kOpenDirectory;
  if (directory && (create || exclusive || truncate)) return fail(Code::kInvalid);
  // POSIX needs write access to create or truncate. A descriptor asked for neither reading nor
  // writing is opened for reading: open(2) needs some access mode, and that is the least.
  bool write = (flags & kFlagWrite) || create || truncate;
  bool read = (flags & kFlagRead) || !(flags & kFlagWrite);
  if (!d.mutable_tree && (write || (flags & kFlagMutateDir))) return fail(Code::kNotPermitted);

  uint64_t o = O_NOCTTY | (read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY);
  if (create) o |= O_CREAT | (exclusive ? O_EXCL : 0);
  if (truncate) o |= O_TRUNC;
  if (directory) o |= O_DIRECTORY;
  if (!(path_flags & kSymlinkFollow)) o |= O_NOFOLLOW;
  if (flags & kFlagFileSync) o |= O_SYNC;
  if (flags & kFlagDataSync) o |= O_DSYNC;
  if (flags & kFlagReadSync) o |= O_RSYNC;
  int fd = openBeneath(d.raw(), path, o, 0666);
  if (fd < 0) return failErrno(-fd);
  auto out = std::make_unique<Descriptor>();
  out->fd = std::make_shared<OwnedFd>(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return failErrno(errno);
  out->is_dir = S_ISDIR(st.st_mode);
  out->mutable_tree = d.mutable_tree;
  if (out->is_dir) {
    out->flags = kFlagRead | (flags & kFlagMutateDir);
  } else {
    out->flags = (read ? kFlagRead : 0) | (write ? kFlagWrite : 0) |
                 (flags & (kFlagFileSync | kFlagDataSync | kFlagReadSync));
  }
  return Val::ok(own(cx, t.descriptor, std::move(out)));
}

Val readDirectoryEntry(DirectoryEntryStream& s) {
  while (true) {
    errno = 0;
    const dirent* e = ::readdir(s.dir);
    if (!e) return errno ? failErrno(errno) : Val::ok(Val::none());
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (!isValidUtf8(name)) return fail(Code::kIllegalByteSequence);
    mode_t mode = DTTOIF(e->d_type);
    if (e->d_type == DT_UNKNOWN) {  // the file system does not say: ask
      struct stat st {};
      if (::fstatat(::dirfd(s.dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return failErrno(errno);
      mode = st.st_mode;
    }
    DescriptorType type = typeOf(mode);
    return Val::ok(Val::some(Val::record({typeVal(type), Val::string(std::string(name))})));
  }
}

Val readSymlink(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return failErrno(errno);
  if (!S_ISLNK(st.st_mode)) return fail(Code::kInvalid);  // what readlink(2) says
  std::string target(std::max<size_t>(static_cast<size_t>(st.st_size), 64), '\0');
  while (true) {
    ssize_t n = ::readlinkat(fd, "", target.data(), target.size());
    if (n < 0) return failErrno(errno);
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      break;
    }
    target.resize(target.size() * 2);  // the link grew since fstat
  }
  if (!isValidUtf8(target)) return fail(Code::kIllegalByteSequence);
  return Val::ok(Val::string(std::move(target)));
}

}  // namespace

void addFilesystem(component::Linker& l, Types& t) {
  WasiCtx::open_preopen = openPreopen;
  const std::string types = iface("wasi:filesystem/types");
  t.descriptor = l.resource(types, "descriptor", dropObject);
  t.directory_entry_stream = l.resource(types, "directory-entry-stream", dropObject);
  Types* tp = &t;

  l.func(
      iface("wasi:filesystem/preopens"), "get-directories",
      [tp](CallContext& cx, Args&) -> Expected<Val> {
        WasiCtx& w = ctx(cx);
        CUMULUS_TRY(auto dirs, w.preopens());
        // The context keeps its own descriptors for the preopens; each call hands out fresh
        // handles over the same directories, so a guest dropping one (or asking twice) can
        // never leave another handle dangling.
        std::vector<Val> out;
        for (const auto& [rep, name] : dirs) {
          auto copy = std::make_unique<Descriptor>(w.table().get<Descriptor>(rep));
          out.push_back(Val::tuple({own(cx, tp->descriptor, std::move(copy)), Val::string(name)}));
        }
        return Val::list(std::move(out));
      });

  l.func(types, "filesystem-error-code", [](CallContext& cx, Args& a) -> Expected<Val> {
    const IoError& e = ctx(cx).table().get<IoError>(a[0]);
    if (e.errno_value == 0) return Val::none();
    return Val::some(Val::enumCase(static_cast<uint32_t>(codeFromErrno(e.errno_value))));
  });

  auto method = [&](std::string_view name, component::HostFn fn) {
    l.func(types, fmt::format("[method]descriptor.{}", name), std::move(fn));
  };

  // ---- data ----
  method("read-via-stream", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    if (d.is_dir) return fail(Code::kIsDirectory);
    if (!(d.flags & kFlagRead)) return fail(Code::kBadDescriptor);
    return Val::ok(own(cx, tp->input_stream, fdInputStream(d.raw(), a[1].asU64(), d.fd)));
  });
  auto output = [tp](bool append) {
    return [tp, append](CallContext& cx, Args& a) -> Expected<Val> {
      Descriptor& d = descriptor(cx, a[0]);
      if (d.is_dir) return fail(Code::kBadDescriptor);
      if (!d.mutable_tree) return fail(Code::kNotPermitted);
      if (!(d.flags & kFlagWrite)) return fail(Code::kBadDescriptor);
      std::optional<uint64_t> offset;
      if (!append) offset = a[1].asU64();
      return Val::ok(own(cx, tp->output_stream, fdOutputStream(d.raw(), offset, append, d.fd)));
    };
  };
  method("write-via-stream", output(false));
  method("append-via-stream", output(true));

  method("read", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    if (d.is_dir) return fail(Code::kBadDescriptor);
    uint64_t offset = a[2].asU64();
    if (offset > static_cast<uint64_t>(std::numeric_limits<off_t>::max()))
      return fail(Code::kInvalid);
    std::string buf(static_cast<size_t>(std::min(a[1].asU64(), kMaxRead)), '\0');
    ssize_t n;
    do {
      n = ::pread(d.raw(), buf.data(), buf.size(), static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return failErrno(errno);
    buf.resize(static_cast<size_t>(n));
    return Val::ok(Val::tuple({Val::bytes(std::move(buf)), Val::boolean(n == 0)}));
  });
  method("write", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    if (d.is_dir) return fail(Code::kBadDescriptor);
    if (!d.mutable_tree) return fail(Code::kNotPermitted);
    const std::string& data = a[1].asBytes();
    uint64_t offset = a[2].asU64();
    if (offset > static_cast<uint64_t>(std::numeric_limits<off_t>::max()))
      return fail(Code::kInvalid);
    ssize_t n;
    do {
      n = ::pwrite(d.raw(), data.data(), data.size(), static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return failErrno(errno);
    return Val::ok(Val::u64(static_cast<uint64_t>(n)));
  });
  method("advise", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    if (d.is_dir) return fail(Code::kBadDescriptor);
    static constexpr int kAdvice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL,
                                      POSIX_FADV_RANDOM,   POSIX_FADV_WILLNEED,
                                      POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
    uint64_t offset = a[1].asU64(), len = a[2].asU64();
    uint32_t advice = a[3].discriminant();
    constexpr auto kMaxOff = static_cast<uint64_t>(std::numeric_limits<off_t>::max());
    if (offset > kMaxOff || len > kMaxOff || advice >= std::size(kAdvice))
      return fail(Code::kInvalid);
    // posix_fadvise returns the error instead of setting errno.
    int err = ::posix_fadvise(d.raw(), static_cast<off_t>(offset), static_cast<off_t>(len),
                              kAdvice[advice]);
    return err ? failErrno(err) : Val::okUnit();
  });
  method("sync-data", [](CallContext& cx, Args& a) -> Expected<Val> {
    return unitResult(::fdatasync(descriptor(cx, a[0]).raw()));
  });
  method("sync", [](CallContext& cx, Args& a) -> Expected<Val> {
    return unitResult(::fsync(descriptor(cx, a[0]).raw()));
  });
  method("set-size", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    if (d.is_dir) return fail(Code::kBadDescriptor);
    if (!d.mutable_tree) return fail(Code::kNotPermitted);
    uint64_t size = a[1].asU64();
    if (size > static_cast<uint64_t>(std::numeric_limits<off_t>::max()))
      return fail(Code::kFileTooLarge);
    return unitResult(::ftruncate(d.raw(), static_cast<off_t>(size)));
  });

  // ---- metadata ----
  method("get-flags", [](CallContext& cx, Args& a) -> Expected<Val> {
    return Val::ok(Val::flags(descriptor(cx, a[0]).flags));
  });
  method("get-type", [](CallContext& cx, Args& a) -> Expected<Val> {
    struct stat st {};
    if (::fstat(descriptor(cx, a[0]).raw(), &st) != 0) return failErrno(errno);
    return Val::ok(typeVal(typeOf(st.st_mode)));
  });
  method("stat", [](CallContext& cx, Args& a) -> Expected<Val> {
    struct stat st {};
    if (::fstat(descriptor(cx, a[0]).raw(), &st) != 0) return failErrno(errno);
    return Val::ok(statVal(st));
  });
  // stat-at and metadata-hash-at: (self, path-flags, path) -> the object's stat, or an errno.
  auto statAt = [](CallContext& cx, Args& a, struct stat& st) -> int {
    Descriptor& d = descriptor(cx, a[0]);
    if (int e = checkDir(d, false)) return e;
    OwnedFd obj;
    if (int e = openObject(d, a[2].asString(), a[1].flagBits() & kSymlinkFollow, obj)) return e;
    return ::fstat(obj.get(), &st) != 0 ? errno : 0;
  };
  method("stat-at", [statAt](CallContext& cx, Args& a) -> Expected<Val> {
    struct stat st {};
    if (int e = statAt(cx, a, st)) return failErrno(e);
    return Val::ok(statVal(st));
  });
  method("set-times", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    if (!d.mutable_tree) return fail(Code::kNotPermitted);
    timespec times[2];
    if (int e = newTimestamps(a[1], a[2], times)) return failErrno(e);
    return unitResult(::futimens(d.raw(), times));
  });
  method("set-times-at", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    if (int e = checkDir(d, true)) return failErrno(e);
    timespec times[2];
    if (int e = newTimestamps(a[3], a[4], times)) return failErrno(e);
    OwnedFd obj;
    if (int e = openObject(d, a[2].asString(), a[1].flagBits() & kSymlinkFollow, obj))
      return failErrno(e);
    // The O_PATH descriptor already is the object (a symlink itself when not following).
    return unitResult(::utimensat(obj.get(), "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
  });
  method("is-same-object", [](CallContext& cx, Args& a) -> Expected<Val> {
    struct stat x {
    }, y{};
    if (::fstat(descriptor(cx, a[0]).raw(), &x) != 0 ||
        ::fstat(descriptor(cx, a[1]).raw(), &y) != 0)
      return Val::boolean(false);
    return Val::boolean(x.st_dev == y.st_dev && x.st_ino == y.st_ino);
  });
  method("metadata-hash", [](CallContext& cx, Args& a) -> Expected<Val> {
    struct stat st {};
    if (::fstat(descriptor(cx, a[0]).raw(), &st) != 0) return failErrno(errno);
    return Val::ok(metadataHash(st));
  });
  method("metadata-hash-at", [statAt](CallContext& cx, Args& a) -> Expected<Val> {
    struct stat st {};
    if (int e = statAt(cx, a, st)) return failErrno(e);
    return Val::ok(metadataHash(st));
  });

  // ---- directories ----
  method("open-at", [tp](CallContext& cx, Args& a) -> Expected<Val> { return openAt(cx, *tp, a); });
  method("read-directory", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    if (int e = checkDir(d, false)) return failErrno(e);
    // A descriptor of its own: the stream has its own position, and closedir closes it.
    int fd = ::openat(d.raw(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return failErrno(errno);
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
      int err = errno;
      ::close(fd);
      return failErrno(err);
    }
    return Val::ok(
        own(cx, tp->directory_entry_stream, std::make_unique<DirectoryEntryStream>(dir)));
  });
  l.func(types, "[method]directory-entry-stream.read-directory-entry",
         [](CallContext& cx, Args& a) -> Expected<Val> {
           return readDirectoryEntry(ctx(cx).table().get<DirectoryEntryStream>(a[0]));
         });
  method("readlink-at", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    if (int e = checkDir(d, false)) return failErrno(e);
    OwnedFd obj;
    if (int e = openObject(d, a[1].asString(), false, obj)) return failErrno(e);
    return readSymlink(obj.get());
  });
  method("create-directory-at", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    Parent p;
    if (int e = checkDirAndParent(d, a[1].asString(), p)) return failErrno(e);
    return unitResult(::mkdirat(p.fd, p.name.c_str(), 0777));
  });
  method("remove-directory-at", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    Parent p;
    if (int e = checkDirAndParent(d, a[1].asString(), p)) return failErrno(e);
    return unitResult(::unlinkat(p.fd, p.name.c_str(), AT_REMOVEDIR));
  });
  method("unlink-file-at", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    Parent p;
    if (int e = checkDirAndParent(d, a[1].asString(), p)) return failErrno(e);
    return unitResult(::unlinkat(p.fd, p.name.c_str(), 0));
  });
  method("symlink-at", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    const std::string& target = a[1].asString();
    Parent p;
    if (int e = checkDirAndParent(d, a[2].asString(), p)) return failErrno(e);
    // The target is only text until someone follows the link, and following is always confined;
    // but an absolute target can never resolve inside the sandbox, so it is refused up front (as
    // wasmtime does) rather than left as a trap for a host process.
    if (int e = checkPath(target)) return failErrno(e);
    return unitResult(::symlinkat(target.c_str(), p.fd, p.name.c_str()));
  });
  method("link-at", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    Descriptor& to = descriptor(cx, a[3]);
    if (int e = checkDir(d, true)) return failErrno(e);
    if (int e = checkDir(to, true)) return failErrno(e);
    // Following a final symlink would need linkat(AT_SYMLINK_FOLLOW), which resolves without
    // RESOLVE_BENEATH; wasmtime refuses it too.
    if (a[1].flagBits() & kSymlinkFollow) return fail(Code::kInvalid);
    Parent from, dest;
    if (int e = openParent(d, a[2].asString(), from)) return failErrno(e);
    if (int e = openParent(to, a[4].asString(), dest)) return failErrno(e);
    return unitResult(::linkat(from.fd, from.name.c_str(), dest.fd, dest.name.c_str(), 0));
  });
  method("rename-at", [](CallContext& cx, Args& a) -> Expected<Val> {
    Descriptor& d = descriptor(cx, a[0]);
    Descriptor& to = descriptor(cx, a[2]);
    if (int e = checkDir(d, true)) return failErrno(e);
    if (int e = checkDir(to, true)) return failErrno(e);
    Parent from, dest;
    if (int e = openParent(d, a[1].asString(), from)) return failErrno(e);
    if (int e = openParent(to, a[3].asString(), dest)) return failErrno(e);
    return unitResult(::renameat(from.fd, from.name.c_str(), dest.fd, dest.name.c_str()));
  });
}

}  // namespace cumulus::wasi
