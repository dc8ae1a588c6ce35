// Whole-file helpers (see file.h).
#include "base/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace cumulus {

namespace {
Error ioError(const std::filesystem::path& path, const char* what) {
  return makeError(ErrorCode::kIo, "{} {}: {}", what, path.string(), std::strerror(errno));
}
}  // namespace

Expected<std::vector<uint8_t>> readFile(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ioError(path, "cannot open");
  std::vector<uint8_t> data;
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = ioError(path, "cannot read");
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    data.insert(data.end(), buf, buf + n);
  }
  ::close(fd);
  return data;
}

Expected<std::string> readTextFile(const std::filesystem::path& path) {
  CUMULUS_TRY(auto bytes, readFile(path));
  return std::string(bytes.begin(), bytes.end());
}

Expected<void> writeFileAtomic(const std::filesystem::path& path, std::span<const uint8_t> data) {
  std::random_device rd;
  auto tmp = path;
  tmp += fmt::format(".tmp{:x}{:x}", rd(), ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ioError(tmp, "cannot create");
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = ioError(tmp, "cannot write");
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = ioError(path, "cannot rename into");
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

}  // namespace cumulus
