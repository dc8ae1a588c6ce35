// Decoding component binaries (see ast.h). Errors name what is wrong and where ("component
// binary offset 0x1f: unknown section id 13"). A core module or an old component encoding is
// recognised and reported as such instead of as garbage.
#pragma once

#include <cstdint>
#include <span>

#include "base/error.h"
#include "component/ast.h"

namespace cumulus::component {

inline constexpr uint16_t kComponentVersion = 0x0d;

enum class BinaryKind { kCoreModule, kComponent, kUnknown };
// Looks only at the 8-byte preamble.
BinaryKind sniff(std::span<const uint8_t> bytes);

// Decodes a whole component. Core module payloads are referenced by offset, not copied.
Expected<Component> decode(std::span<const uint8_t> bytes);

}  // namespace cumulus::component
