// libFuzzer target: module loading + instantiation + calls (see fuzz_one.h).
#include <filesystem>

#include "fuzz/fuzz_one.h"

namespace {

cumulus::engine::EngineConfig baselineConfig(size_t units) {
  cumulus::engine::EngineConfig c;
  c.policy = cumulus::engine::TierPolicy::kBaseline;
  c.translate.units = units;
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static cumulus::engine::Engine engine(baselineConfig(0));
  // Inputs of odd size take the path of large modules: functions split into C units.
  static cumulus::engine::Engine split_engine(baselineConfig(2));
  cumulus::fuzz::fuzzOne(size % 2 ? split_engine : engine, std::span<const uint8_t>(data, size));
  return 0;
}
