// Binary encodings (see binary.h).
#include "base/binary.h"

namespace cumulus {

const char* readUleb128(std::span<const uint8_t> b, size_t& pos, int bits, uint64_t& out) {
  const int last = (bits - 1) / 7;   // index of the last byte allowed
  const int used = bits - 7 * last;  // payload bits that byte may carry
  const uint8_t unused_mask = static_cast<uint8_t>((0x7f >> used) << used);
  uint64_t result = 0;
  for (int i = 0;; ++i) {
    if (pos >= b.size()) return "unexpected end";
    uint8_t byte = b[pos++];
    if (i == last && (byte & unused_mask)) return "integer too large";
    result |= uint64_t(byte & 0x7f) << (7 * i);
    if (!(byte & 0x80)) break;
    if (i == last) return "integer representation too long";
  }
  out = result;
  return nullptr;
}

bool isValidUtf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c >> 5) == 6) {
      len = 2, cp = c & 0x1f;
    } else if ((c >> 4) == 14) {
      len = 3, cp = c & 0x0f;
    } else if ((c >> 3) == 30) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

}  // namespace cumulus
