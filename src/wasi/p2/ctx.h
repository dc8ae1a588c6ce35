// WASI 0.2 host state: the per-instance context (arguments, environment, preopened directories,
// stdio, network policy, exit status) and the table of host objects that component handles
// refer to. Every interface (cli, io, clocks, random, filesystem, sockets, and later http) works
// on this one context, so one component instance has one consistent view of its resources.
//
// Version-neutral: each interface is implemented once and registered at kWasiVersion; the
// linker's semver matching serves components built against any earlier 0.2.x.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include "component/runtime.h"

namespace cumulus::wasi {

inline constexpr std::string_view kWasiVersion = "0.2.12";

// Builds "wasi:io/streams@0.2.12" from "wasi:io/streams".
std::string iface(std::string_view name);

// A host object a component handle refers to.
struct Object {
  virtual ~Object() = default;
};

// Host objects by representation (the `rep` of a handle). Lookups check the object's type so a
// handle of one resource type can never reach another's code.
class ResourceTable {
 public:
  uint32_t push(std::unique_ptr<Object> obj);
  template <typename T>
  T& get(uint32_t rep) {
    Object* o = find(rep);
    auto* t = dynamic_cast<T*>(o);
    if (!t) throw component::ValKindError(badHandle(rep, typeid(T).name()));
    return *t;
  }
  template <typename T>
  T& get(const component::Val& v) {
    return get<T>(v.rep());
  }
  void remove(uint32_t rep);
  size_t size() const { return live_; }

 private:
  Object* find(uint32_t rep);
  static std::string badHandle(uint32_t rep, const char* type);
  std::vector<std::unique_ptr<Object>> objects_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

// ---- wasi:io ----

// A pollable: ready now, or ready when `fd` has `events` or at `deadline` (whichever is set).
struct Pollable : Object {
  std::function<bool()> ready;  // null: ready when fd/deadline say so
  int fd = -1;
  short events = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  bool isReady() const;
};

struct IoError : Object {
  std::string message;
  int errno_value = 0;  // for wasi:filesystem/types.filesystem-error-code
};

struct StreamResult {
  enum class Status : uint8_t { kOk, kClosed, kFailed } status = Status::kOk;
  std::string data;    // read: the bytes
  uint64_t count = 0;  // check-write: permitted bytes; skip/splice: bytes moved
  std::string error;   // kFailed
  int errno_value = 0;
  static StreamResult closed() { return {Status::kClosed, {}, 0, {}, 0}; }
  static StreamResult failed(std::string e, int err = 0) {
    return {Status::kFailed, {}, 0, std::move(e), err};
  }
};

struct InputStream : Object {
  // Up to `len` bytes; blocking waits until at least one byte or end of stream.
  virtual StreamResult read(uint64_t len, bool blocking) = 0;
  virtual std::unique_ptr<Pollable> subscribe() = 0;
};

struct OutputStream : Object {
  virtual StreamResult checkWrite() = 0;
  virtual StreamResult write(std::string_view data) = 0;
  virtual StreamResult flush() { return {}; }
  virtual std::unique_ptr<Pollable> subscribe() = 0;
};

// Streams over a file descriptor: stdio (offset unset) or a file (pread/pwrite at the offset,
// or appending).
std::unique_ptr<InputStream> fdInputStream(int fd, std::optional<uint64_t> offset,
                                           std::shared_ptr<void> keep_alive = nullptr);
std::unique_ptr<OutputStream> fdOutputStream(int fd, std::optional<uint64_t> offset, bool append,
                                             std::shared_ptr<void> keep_alive = nullptr);
// An output stream handing each write to `sink` (logs, captured output).
std::unique_ptr<OutputStream> callbackOutputStream(std::function<void(std::string_view)> sink);
std::unique_ptr<InputStream> emptyInputStream();
// A pollable that is always ready (files, buffered bodies, resolved lookups).
std::unique_ptr<Pollable> readyPollable();

// ---- configuration ----

struct Preopen {
  std::string host_path;
  std::string guest_path;
  bool writable = true;
};

struct WasiConfig {
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<Preopen> preopens;
  std::optional<std::string> cwd;
  // stdio: inherit the host's fds 0/1/2 unless sinks are given
  bool inherit_stdin = false;
  std::function<void(std::string_view)> stdout_sink, stderr_sink;
  // wasi:sockets: deny by default; allowed "host:port" patterns ("127.0.0.1:*", "*:80", "*")
  std::vector<std::string> allowed_sockets;
  bool allow_ip_name_lookup = false;
};

class WasiCtx {
 public:
  explicit WasiCtx(WasiConfig config);
  virtual ~WasiCtx();
  WasiCtx(const WasiCtx&) = delete;
  WasiCtx& operator=(const WasiCtx&) = delete;

  const WasiConfig& config() const { return config_; }
  ResourceTable& table() { return table_; }
  // Preopened directories as opened descriptors: (descriptor rep, guest path). Opened lazily.
  Expected<std::vector<std::pair<uint32_t, std::string>>> preopens();
  std::optional<int> exitCode() const { return exit_code_; }
  void setExitCode(int code) { exit_code_ = code; }

  // Set by the filesystem implementation (filesystem.cpp): opens a preopen as a descriptor.
  static std::function<Expected<std::unique_ptr<Object>>(const Preopen&)> open_preopen;

 private:
  WasiConfig config_;
  ResourceTable table_;
  std::optional<std::vector<std::pair<uint32_t, std::string>>> preopens_;
  std::optional<int> exit_code_;
};

// The host resource types (one set per Linker), needed to hand out owned handles.
struct Types {
  const component::ResourceType *error = nullptr, *pollable = nullptr, *input_stream = nullptr,
                                *output_stream = nullptr, *terminal_input = nullptr,
                                *terminal_output = nullptr, *descriptor = nullptr,
                                *directory_entry_stream = nullptr, *network = nullptr,
                                *tcp_socket = nullptr, *udp_socket = nullptr,
                                *incoming_datagram_stream = nullptr,
                                *outgoing_datagram_stream = nullptr,
                                *resolve_address_stream = nullptr;
};

// Thrown by `exit` to unwind the guest; `cumulus run` reads the code from the context.
struct ExitRequest {
  int code;
};

// Registers every WASI 0.2 interface in `linker`. The instance data given to instantiate() must
// be a WasiCtx (or a subclass). Returns the resource types (owned by the linker).
std::shared_ptr<Types> addToLinker(component::Linker& linker);

// Per-interface registration (wasi.cpp calls them all).
void addIo(component::Linker& linker, Types& t);
void addCli(component::Linker& linker, Types& t);
void addClocksRandom(component::Linker& linker, Types& t);
void addFilesystem(component::Linker& linker, Types& t);
void addSockets(component::Linker& linker, Types& t);

// Helpers for host functions.
inline WasiCtx& ctx(component::CallContext& cx) { return cx.as<WasiCtx>(); }
// Hands `obj` to the guest as an owned handle of `type`.
component::Val own(component::CallContext& cx, const component::ResourceType* type,
                   std::unique_ptr<Object> obj);
// The destructor every WASI host resource type uses: frees the table entry.
void dropObject(component::CallContext& cx, uint32_t rep);
// stream-error values
component::Val streamError(component::CallContext& cx, const Types& t, const StreamResult& r);

}  // namespace cumulus::wasi
