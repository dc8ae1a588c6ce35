// libFuzzer target: module loading + instantiation + calls (see fuzz_one.h).
#include <filesystem>

#include "fuzz/fuzz_one.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static cumulus::engine::Engine engine([] {
    cumulus::engine::EngineConfig c;
    c.policy = cumulus::engine::TierPolicy::kBaseline;
    return c;
  }());
  cumulus::fuzz::fuzzOne(engine, std::span<const uint8_t>(data, size));
  return 0;
}
