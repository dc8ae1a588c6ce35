// libFuzzer target: component decoding + resolution over untrusted bytes.
#include <span>

#include "component/decoder.h"
#include "component/resolve.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  auto c = cumulus::component::decode(bytes);
  if (c.ok()) (void)cumulus::component::resolve(*c, bytes);
  return 0;
}
