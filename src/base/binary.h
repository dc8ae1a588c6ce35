// Reading WebAssembly binary encodings shared by the core-module and component readers: unsigned
// LEB128 and UTF-8 names.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace cumulus {

// Reads an unsigned LEB128 of at most `bits` bits at `pos` (advanced past it). Returns nullptr, or
// the spec's message: "unexpected end", "integer representation too long", "integer too large".
const char* readUleb128(std::span<const uint8_t> bytes, size_t& pos, int bits, uint64_t& out);

// True if `s` is well-formed UTF-8 of Unicode scalar values (no overlongs, no surrogates).
bool isValidUtf8(std::string_view s);

}  // namespace cumulus
