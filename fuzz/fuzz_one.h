// One fuzzing step over untrusted module bytes: compile (parse, validate, translate, baseline
// compile), instantiate with stub imports under a memory limit, call every exported function
// with zero arguments under a deadline. Shared by the libFuzzer target and the regression test
// that replays fuzz/regressions/*.
#pragma once

#include <chrono>
#include <span>

#include "engine/instance.h"

namespace cumulus::fuzz {

inline void fuzzOne(engine::Engine& engine, std::span<const uint8_t> bytes) {
  using namespace engine;
  auto module = engine.compile(bytes);
  if (!module.ok()) return;
  auto imports =
      makeStubImports(**module, /*max_memory_pages=*/1024, /*max_table_elements=*/100000);
  if (!imports.ok()) return;
  InstanceOptions options;
  options.memory_limit_bytes = 64 << 20;
  auto inst = Instance::create(engine, *module, std::move(*imports), options);
  if (!inst.ok()) return;
  const auto& exports = (*module)->info().exports;
  for (uint32_t i = 0; i < exports.size(); ++i) {
    if (exports[i].type.kind != ExternKind::kFunc) continue;
    const FuncType& ft = exports[i].type.func;
    std::vector<Cell> cells(std::max<size_t>({ft.params.size(), ft.results.size(), 1}));
    CallOptions call;
    call.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
    (void)(*inst)->callRaw(i, cells.data(), call);
  }
}

}  // namespace cumulus::fuzz
