// LEB128 and UTF-8 readers shared by the core-module and component decoders.
#include <gtest/gtest.h>

#include <vector>

#include "base/binary.h"

namespace cumulus {
namespace {

const char* read(std::vector<uint8_t> bytes, int bits, uint64_t* out = nullptr, size_t* end = nullptr) {
  size_t pos = 0;
  uint64_t v = 0;
  const char* e = readUleb128(bytes, pos, bits, v);
  if (out) *out = v;
  if (end) *end = pos;
  return e;
}

TEST(Leb128, DecodesAndRejectsLikeTheSpec) {
  uint64_t v;
  size_t end;
  EXPECT_EQ(read({0xe5, 0x8e, 0x26}, 32, &v, &end), nullptr);
  EXPECT_EQ(v, 624485u);
  EXPECT_EQ(end, 3u);
  EXPECT_EQ(read({0xff, 0xff, 0xff, 0xff, 0x0f}, 32, &v), nullptr);
  EXPECT_EQ(v, 0xffffffffu);
  EXPECT_STREQ(read({0xff, 0xff, 0xff, 0xff, 0x1f}, 32), "integer too large");
  EXPECT_STREQ(read({0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 32), "integer representation too long");
  EXPECT_STREQ(read({0x80}, 32), "unexpected end");
  EXPECT_EQ(read({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 64, &v), nullptr);
  EXPECT_EQ(v, ~uint64_t(0));
  EXPECT_STREQ(read({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, 64), "integer too large");
}

TEST(Utf8, AcceptsScalarValuesOnly) {
  EXPECT_TRUE(isValidUtf8("plain"));
  EXPECT_TRUE(isValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(isValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(isValidUtf8("\x80"));              // lone continuation
}

}  // namespace
}  // namespace cumulus
