// Interpreter tier: adapts Cumulus externs to interp_bridge (see interp.h for the design).
#include "engine/interp.h"

#include <algorithm>

#include <fmt/format.h>

#include "engine/instance.h"
#include "engine/interp_bridge.h"
#include "engine/rt/runtime.h"

namespace cumulus::engine {

namespace ib = interp_bridge;

struct InterpModule::Impl {
  std::shared_ptr<ib::Module> module;
};

struct InterpInstance::Impl {
  Instance& owner;
  std::unique_ptr<ib::Instance, void (*)(ib::Instance*)> instance{nullptr, nullptr};
  std::vector<std::shared_ptr<Cell>> global_boxes;
  wasm_rt_memory_t view{};
};

InterpModule::~InterpModule() = default;
InterpInstance::~InterpInstance() = default;

namespace {
uint8_t code(ValType t) {
  switch (t) {
    case ValType::kI32:
      return 0x7f;
    case ValType::kI64:
      return 0x7e;
    case ValType::kF32:
      return 0x7d;
    case ValType::kF64:
      return 0x7c;
    case ValType::kV128:
      return 0x7b;
    case ValType::kFuncRef:
      return 0x70;
    case ValType::kExternRef:
      return 0x6f;
  }
  return 0x7f;
}
std::vector<uint8_t> codes(const std::vector<ValType>& v) {
  std::vector<uint8_t> out;
  for (auto t : v) out.push_back(code(t));
  return out;
}
}  // namespace

Expected<std::unique_ptr<InterpModule>> InterpModule::create(std::span<const uint8_t> bytes) {
  std::string error;
  auto m = ib::loadModule(bytes.data(), bytes.size(), &error);
  if (!m)
    return makeError(ErrorCode::kInvalidArgument, "interpreter: cannot load module: {}", error);
  auto out = std::unique_ptr<InterpModule>(new InterpModule());
  out->impl_ = std::make_unique<Impl>();
  out->impl_->module = std::move(m);
  return out;
}

Expected<std::unique_ptr<InterpInstance>> InterpInstance::create(Instance& owner) {
  std::vector<ib::ImportSpec> specs;
  for (size_t k = 0; k < owner.imports_.size(); ++k) {
    const Extern& e = owner.imports_[k];
    const ImportDesc& desc = owner.module_->info().imports[k];
    ib::ImportSpec spec;
    if (e.kind == ExternKind::kFunc) {
      spec.kind = ib::ImportSpec::kFunc;
      spec.params = codes(e.func.type->params);
      spec.results = codes(e.func.type->results);
      Func f = e.func;
      Instance* self = &owner;
      spec.call = [f, self, &desc](Cell* cells) -> std::string {
        auto r = callImport(f, self, cells, desc.module, desc.name);
        return r.ok() ? std::string() : r.error().message();
      };
    } else if (e.kind == ExternKind::kGlobal && !e.type.global.mut) {
      spec.kind = ib::ImportSpec::kGlobal;
      spec.global_type = code(e.type.global.type);
      spec.global_value = *static_cast<const Cell*>(e.object);
    } else if (e.exporter && e.exporter->interp_) {
      spec.kind = ib::ImportSpec::kAlias;
      spec.source = e.exporter->interp_->impl_->instance.get();
      spec.source_export = e.exporter_index;
    } else {
      return makeError(ErrorCode::kLinkError,
                       "import {}.{}: a {}{} cannot be shared with an interpreter-tier module",
                       desc.module, desc.name,
                       e.type.global.mut && e.kind == ExternKind::kGlobal ? "mutable " : "",
                       externKindName(e.kind));
    }
    specs.push_back(std::move(spec));
  }
  auto ii = std::unique_ptr<InterpInstance>(new InterpInstance());
  ii->impl_ = std::unique_ptr<Impl>(new Impl{owner, {nullptr, nullptr}, {}});
  ib::Outcome outcome;
  ii->impl_->instance = ib::instantiate(owner.module_->interp()->impl().module, specs, &outcome);
  if (outcome.link_error)
    return makeError(ErrorCode::kLinkError, "interpreter: {}", outcome.message);
  if (outcome.trap_code)
    return Error(ErrorCode::kTrap, fmt::format("wasm trap: {} (instantiation)", outcome.message))
        .withDetail(outcome.trap_code);
  return ii;
}

std::optional<Extern> InterpInstance::getExport(uint32_t index) {
  const ExportDesc& d = impl_->owner.module_->info().exports[index];
  Extern e;
  e.kind = d.type.kind;
  e.type.kind = d.type.kind;
  e.owner = impl_->owner.shared_from_this();
  if (d.type.kind != ExternKind::kFunc) {  // a function's type is *func.type
    e.type = d.type;
    e.exporter = &impl_->owner;
    e.exporter_index = index;
  }
  if (d.type.kind == ExternKind::kFunc) {
    e.func.type = &d.type.func;
    e.func.owner = impl_->owner.shared_from_this();
    e.func.export_index = index;
  } else if (d.type.kind == ExternKind::kGlobal) {
    // A snapshot for readers and compiled modules (which may import only immutable ones); another
    // interpreter-tier instance aliases the global itself through `exporter`.
    auto box = std::make_shared<Cell>();
    if (!ib::readGlobal(*impl_->instance, index, box.get())) return std::nullopt;
    impl_->global_boxes.push_back(box);
    e.object = box.get();
  }
  return e;
}

wasm_rt_memory_t* InterpInstance::memoryView(uint32_t index) {
  uint8_t* data = nullptr;
  uint64_t size = 0;
  if (!ib::memoryBytes(*impl_->instance, index, &data, &size)) return nullptr;
  impl_->view.data = data;
  impl_->view.size = static_cast<uint32_t>(std::min<uint64_t>(size, UINT32_MAX));
  impl_->view.pages = static_cast<uint32_t>(size / 65536);
  impl_->view.max_pages = 65536;
  return &impl_->view;
}

Expected<void> InterpInstance::call(uint32_t index, Cell* cells, const CallOptions& options) {
  Watchdog& wd = impl_->owner.engine_.watchdog();
  uint64_t ticket = options.deadline ? wd.arm(*options.deadline) : 0;
  ib::Outcome out = ib::call(*impl_->instance, index, cells);
  if (ticket) wd.disarm(ticket);
  if (out.trap_code) {
    return Error(ErrorCode::kTrap, fmt::format("wasm trap: {} (export {})", out.message,
                                               impl_->owner.module_->info().exports[index].name))
        .withDetail(out.trap_code);
  }
  return {};
}

}  // namespace cumulus::engine
