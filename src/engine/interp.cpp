// Interpreter tier (see interp.h). Placeholder until wabt::interp is wired in.
#include "engine/interp.h"

#include "engine/instance.h"

namespace cumulus::engine {

struct InterpModule::Impl {};
struct InterpInstance::Impl {};
InterpModule::~InterpModule() = default;
InterpInstance::~InterpInstance() = default;

Expected<std::unique_ptr<InterpModule>> InterpModule::create(std::span<const uint8_t>) {
  return makeError(ErrorCode::kUnsupported, "interpreter tier not available");
}
Expected<std::unique_ptr<InterpInstance>> InterpInstance::create(Instance&) {
  return makeError(ErrorCode::kUnsupported, "interpreter tier not available");
}
std::optional<Extern> InterpInstance::getExport(uint32_t) { return std::nullopt; }
Expected<void> InterpInstance::call(uint32_t, Cell*, const CallOptions&) {
  return makeError(ErrorCode::kUnsupported, "interpreter tier not available");
}

}  // namespace cumulus::engine
