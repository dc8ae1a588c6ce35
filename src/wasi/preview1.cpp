// wasi_snapshot_preview1 subset (see preview1.h).
#include "wasi/preview1.h"

#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace cumulus::wasi {

namespace {

constexpr uint32_t kSuccess = 0, kBadf = 8, kFault = 21, kInval = 28, kNosys = 52;

// Bounds-checked view of guest memory.
struct Mem {
  wasm_rt_memory_t* m;
  bool ok(uint64_t addr, uint64_t len) const { return m && addr + len <= m->size; }
  uint8_t* at(uint64_t addr) const { return m->data + addr; }
  bool put32(uint64_t addr, uint32_t v) const {
    if (!ok(addr, 4)) return false;
    std::memcpy(at(addr), &v, 4);
    return true;
  }
  bool put64(uint64_t addr, uint64_t v) const {
    if (!ok(addr, 8)) return false;
    std::memcpy(at(addr), &v, 8);
    return true;
  }
  uint32_t get32(uint64_t addr) const {
    uint32_t v;
    std::memcpy(&v, at(addr), 4);
    return v;
  }
};

uint32_t putStrings(const Mem& mem, const std::vector<std::string>& strs, uint32_t ptrs,
                    uint32_t buf) {
  for (size_t i = 0; i < strs.size(); ++i) {
    if (!mem.put32(ptrs + 4 * i, buf) || !mem.ok(buf, strs[i].size() + 1)) return kFault;
    std::memcpy(mem.at(buf), strs[i].c_str(), strs[i].size() + 1);
    buf += static_cast<uint32_t>(strs[i].size() + 1);
  }
  return kSuccess;
}

uint32_t sizes(const Mem& mem, const std::vector<std::string>& strs, uint32_t count_ptr,
               uint32_t size_ptr) {
  uint32_t total = 0;
  for (const auto& s : strs) total += static_cast<uint32_t>(s.size() + 1);
  if (!mem.put32(count_ptr, static_cast<uint32_t>(strs.size())) || !mem.put32(size_ptr, total))
    return kFault;
  return kSuccess;
}

}  // namespace

Preview1::Preview1(std::vector<std::string> args, std::vector<std::string> env)
    : args_(std::move(args)), env_(std::move(env)) {}

Expected<void> Preview1::call(const std::string& name, engine::Caller& caller, engine::Cell* c) {
  Mem mem{caller.memory()};
  auto ret = [&](uint32_t errno_value) -> Expected<void> {
    c[0].i32 = errno_value;
    return {};
  };
  if (name == "proc_exit") {
    exit_code_ = static_cast<int>(c[0].i32);
    return makeError(ErrorCode::kTrap, "proc_exit({})", c[0].i32);
  }
  if (name == "fd_write") {
    uint32_t fd = c[0].i32, iovs = c[1].i32, n = c[2].i32, out = c[3].i32;
    if (fd != 1 && fd != 2) return ret(kBadf);
    uint32_t written = 0;
    for (uint32_t i = 0; i < n; ++i) {
      if (!mem.ok(iovs + 8 * i, 8)) return ret(kFault);
      uint32_t p = mem.get32(iovs + 8 * i), len = mem.get32(iovs + 8 * i + 4);
      if (!mem.ok(p, len)) return ret(kFault);
      size_t off = 0;
      while (off < len) {
        ssize_t w = ::write(static_cast<int>(fd), mem.at(p) + off, len - off);
        if (w < 0) {
          if (errno == EINTR) continue;
          return ret(kInval);
        }
        off += static_cast<size_t>(w);
      }
      written += len;
    }
    return ret(mem.put32(out, written) ? kSuccess : kFault);
  }
  if (name == "fd_read") {
    uint32_t fd = c[0].i32, iovs = c[1].i32, n = c[2].i32, out = c[3].i32;
    if (fd != 0) return ret(kBadf);
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; ++i) {
      if (!mem.ok(iovs + 8 * i, 8)) return ret(kFault);
      uint32_t p = mem.get32(iovs + 8 * i), len = mem.get32(iovs + 8 * i + 4);
      if (!mem.ok(p, len)) return ret(kFault);
      ssize_t r = ::read(0, mem.at(p), len);
      if (r < 0) return ret(kInval);
      total += static_cast<uint32_t>(r);
      if (static_cast<uint32_t>(r) < len) break;
    }
    return ret(mem.put32(out, total) ? kSuccess : kFault);
  }
  if (name == "args_sizes_get") return ret(sizes(mem, args_, c[0].i32, c[1].i32));
  if (name == "args_get") return ret(putStrings(mem, args_, c[0].i32, c[1].i32));
  if (name == "environ_sizes_get") return ret(sizes(mem, env_, c[0].i32, c[1].i32));
  if (name == "environ_get") return ret(putStrings(mem, env_, c[0].i32, c[1].i32));
  if (name == "clock_time_get") {
    uint32_t id = c[0].i32, out = c[2].i32;
    timespec ts{};
    clock_gettime(id == 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
    uint64_t ns = uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
    return ret(mem.put64(out, ns) ? kSuccess : kFault);
  }
  if (name == "clock_res_get") return ret(mem.put64(c[1].i32, 1) ? kSuccess : kFault);
  if (name == "random_get") {
    uint32_t p = c[0].i32, len = c[1].i32;
    if (!mem.ok(p, len)) return ret(kFault);
    for (uint32_t off = 0; off < len;) {
      ssize_t r = getrandom(mem.at(p) + off, len - off, 0);
      if (r <= 0) return ret(kInval);
      off += static_cast<uint32_t>(r);
    }
    return ret(kSuccess);
  }
  if (name == "fd_fdstat_get") {
    uint32_t fd = c[0].i32, out = c[1].i32;
    if (fd > 2) return ret(kBadf);
    if (!mem.ok(out, 24)) return ret(kFault);
    std::memset(mem.at(out), 0, 24);
    mem.at(out)[0] = 2;  // character device
    return ret(kSuccess);
  }
  if (name == "fd_prestat_get" || name == "fd_prestat_dir_name") return ret(kBadf);
  if (name == "fd_close" || name == "fd_seek") return ret(c[0].i32 <= 2 ? kNosys : kBadf);
  if (name == "sched_yield") return ret(kSuccess);
  return ret(kNosys);
}

Expected<std::vector<engine::Extern>> Preview1::resolve(const engine::Module& module) {
  std::vector<engine::Extern> out;
  for (const auto& imp : module.info().imports) {
    if (imp.module != "wasi_snapshot_preview1" || imp.type.kind != engine::ExternKind::kFunc)
      return makeError(
          ErrorCode::kLinkError,
          "unsupported import {}.{} ({}): only wasi_snapshot_preview1 functions are provided",
          imp.module, imp.name, imp.type.toString());
    auto fn = std::make_shared<engine::HostFunc>();
    fn->type = imp.type.func;
    fn->name = imp.name;
    std::string name = imp.name;
    bool returns_errno =
        fn->type.results.size() == 1 && fn->type.results[0] == engine::ValType::kI32;
    if (!returns_errno && name != "proc_exit")
      return makeError(ErrorCode::kLinkError, "wasi_snapshot_preview1.{} has an unexpected type {}",
                       name, fn->type.toString());
    fn->callback = [this, name](engine::Caller& caller, engine::Cell* cells) {
      return call(name, caller, cells);
    };
    out.push_back(engine::makeHostFunc(fn));
  }
  return out;
}

}  // namespace cumulus::wasi
