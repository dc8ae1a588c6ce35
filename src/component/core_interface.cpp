// The interface of a core module embedded in a component (see resolve_internal.h).
#include <fmt/format.h>

#include "base/binary.h"
#include "component/resolve_internal.h"

namespace cumulus::component::resolver {

// Reads only a core module's import and export sections (its interface to the component). The
// engine validates the whole module when it is compiled; reading just the interface here keeps
// resolution cheap for 10 MB modules and independent of which core features the engine runs
// (exceptions, GC or memory64 modules still have an interface).
std::shared_ptr<const engine::ModuleInfo> coreModuleInterface(std::span<const uint8_t> b) {
  size_t pos = 8;
  auto fail = [](const char* what) -> void {
    invalid(fmt::format("core module: malformed {}", what));
  };
  auto u8 = [&]() -> uint8_t {
    if (pos >= b.size()) fail("module (unexpected end)");
    return b[pos++];
  };
  auto leb = [&]() -> uint64_t {  // 64-bit: memory64 limits
    uint64_t r;
    if (readUleb128(b, pos, 64, r)) fail("LEB128");
    return r;
  };
  auto name = [&]() {
    uint64_t n = leb();
    if (n > b.size() - pos) fail("name");
    std::string s(reinterpret_cast<const char*>(b.data() + pos), n);
    pos += n;
    return s;
  };
  auto refType = [&]() {
    uint8_t t = u8();
    if (t == 0x63 || t == 0x64) leb();  // (ref null? heaptype)
  };
  auto limits = [&]() {
    uint8_t flags = u8();
    leb();
    if (flags & 1) leb();
  };
  auto info = std::make_shared<engine::ModuleInfo>();
  if (b.size() < 8) fail("header");
  while (pos < b.size()) {
    uint8_t id = u8();
    uint64_t size = leb();
    if (size > b.size() - pos) fail("section size");
    size_t end = pos + size;
    if (id == 2) {
      uint64_t n = leb();
      std::set<std::pair<std::string, std::string>> seen;
      for (uint64_t i = 0; i < n; ++i) {
        engine::ImportDesc d{name(), name(), {}};
        if (!seen.emplace(d.module, d.name).second)
          invalid(fmt::format("duplicate import name `{}:{}`", d.module, d.name));
        uint8_t kind = u8();
        switch (kind) {
          case 0:
            leb();
            break;
          case 1:
            refType();
            limits();
            break;
          case 2:
            limits();
            break;
          case 3:
            refType();
            u8();
            break;
          case 4:
            u8();
            leb();
            break;
          default:
            fail("import kind");
        }
        d.type.kind = static_cast<engine::ExternKind>(kind);
        info->imports.push_back(std::move(d));
      }
    } else if (id == 7) {
      uint64_t n = leb();
      for (uint64_t i = 0; i < n; ++i) {
        engine::ExportDesc d{name(), {}};
        uint8_t kind = u8();
        if (kind > 4) fail("export kind");
        leb();
        d.type.kind = static_cast<engine::ExternKind>(kind);
        info->exports.push_back(std::move(d));
      }
    }
    pos = end;
  }
  return info;
}

}  // namespace cumulus::component::resolver
