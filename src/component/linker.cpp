// The linker: host interfaces by versioned name (see runtime.h).
#include <fmt/format.h>

#include "component/names.h"
#include "component/runtime.h"

namespace cumulus::component {

HostInterface& Linker::interface(std::string_view iface) {
  auto [name, version] = splitVersion(iface);
  for (auto& i : interfaces_)
    if (i->name == name && i->version == version) return *i;
  interfaces_.push_back(std::make_unique<HostInterface>());
  interfaces_.back()->name = std::string(name);
  interfaces_.back()->version = std::string(version);
  return *interfaces_.back();
}

void Linker::func(std::string_view iface, std::string_view name, HostFn fn) {
  interface(iface).funcs[std::string(name)] = std::move(fn);
}

const ResourceType* Linker::resource(std::string_view iface, std::string_view name,
                                     std::function<void(CallContext&, uint32_t)> dtor) {
  auto& slot = interface(iface).resources[std::string(name)];
  if (!slot) slot = std::make_shared<ResourceType>();
  slot->name = fmt::format("{}#{}", iface, name);
  slot->host_dtor = std::move(dtor);
  return slot.get();
}

void Linker::resourceAlias(std::string_view iface, std::string_view name,
                           const ResourceType* type) {
  std::shared_ptr<ResourceType> found;
  for (const auto& i : interfaces_)
    for (const auto& [n, r] : i->resources)
      if (r.get() == type) found = r;
  if (!found)  // a component instance's type: not owned here (see the declaration)
    found = std::shared_ptr<ResourceType>(std::shared_ptr<ResourceType>(),
                                          const_cast<ResourceType*>(type));
  interface(iface).resources[std::string(name)] = std::move(found);
}

const HostInterface* Linker::find(std::string_view import_name) const {
  const HostInterface* best = nullptr;
  for (const auto& i : interfaces_) {
    std::string full = i->version.empty() ? i->name : i->name + "@" + i->version;
    if (full == import_name) return i.get();
    if (semverCompatible(import_name, full)) best = i.get();
  }
  return best;
}

}  // namespace cumulus::component
