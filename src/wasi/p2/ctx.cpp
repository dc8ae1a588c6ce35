#include "wasi/p2/ctx.h"

#include <fmt/format.h>

namespace cumulus::wasi {

using component::Val;

std::string iface(std::string_view name) { return fmt::format("{}@{}", name, kWasiVersion); }

uint32_t ResourceTable::push(std::unique_ptr<Object> obj) {
  ++live_;
  if (!free_.empty()) {
    uint32_t rep = free_.back();
    free_.pop_back();
    objects_[rep] = std::move(obj);
    return rep;
  }
  if (objects_.empty()) {
    // One allocation each for the first handles a request creates (they come and go by the
    // dozen per wasi:http request; growing from one would reallocate several times).
    objects_.reserve(16);
    free_.reserve(16);
    objects_.emplace_back();  // rep 0 is never handed out
  }
  objects_.push_back(std::move(obj));
  return static_cast<uint32_t>(objects_.size() - 1);
}

Object* ResourceTable::find(uint32_t rep) {
  if (rep == 0 || rep >= objects_.size() || !objects_[rep]) return nullptr;
  return objects_[rep].get();
}

std::string ResourceTable::badHandle(uint32_t rep, const char* type) {
  return fmt::format("handle representation {} does not refer to a live {}", rep, type);
}

void ResourceTable::remove(uint32_t rep) {
  if (!find(rep)) return;
  objects_[rep].reset();
  free_.push_back(rep);
  --live_;
}

std::function<Expected<std::unique_ptr<Object>>(const Preopen&)> WasiCtx::open_preopen;

WasiCtx::WasiCtx(WasiConfig config) : config_(std::move(config)) {}
WasiCtx::~WasiCtx() = default;

Expected<std::vector<std::pair<uint32_t, std::string>>> WasiCtx::preopens() {
  if (preopens_) return *preopens_;
  std::vector<std::pair<uint32_t, std::string>> out;
  for (const Preopen& p : config_.preopens) {
    if (!open_preopen)
      return makeError(ErrorCode::kUnsupported, "filesystem support is not linked in");
    CUMULUS_TRY(auto obj, open_preopen(p));
    out.emplace_back(table_.push(std::move(obj)), p.guest_path);
  }
  preopens_ = out;
  return out;
}

Val own(component::CallContext& cx, const component::ResourceType* type,
        std::unique_ptr<Object> obj) {
  return Val::own(type, ctx(cx).table().push(std::move(obj)));
}

void dropObject(component::CallContext& cx, uint32_t rep) { ctx(cx).table().remove(rep); }

Val streamError(component::CallContext& cx, const Types& t, const StreamResult& r) {
  if (r.status == StreamResult::Status::kClosed) return Val::err(Val::variant(1));
  auto e = std::make_unique<IoError>();
  e->message = r.error;
  e->errno_value = r.errno_value;
  return Val::err(Val::variant(0, {own(cx, t.error, std::move(e))}));
}

std::shared_ptr<Types> addToLinker(component::Linker& linker) {
  auto t = std::make_shared<Types>();
  addIo(linker, *t);
  addCli(linker, *t);
  addClocksRandom(linker, *t);
  addFilesystem(linker, *t);
  addSockets(linker, *t);
  linker.keepAlive(t);
  return t;
}

}  // namespace cumulus::wasi
