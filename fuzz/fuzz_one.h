// One fuzzing step over untrusted module bytes: compile (parse, validate, translate, baseline
// compile), instantiate with stub imports under a memory limit, call every exported function
// with zero arguments under a deadline. Shared by the libFuzzer target and the regression test
// that replays fuzz/regressions/*.
#pragma once

#include <chrono>
#include <cstring>
#include <span>

#include "engine/instance.h"

namespace cumulus::fuzz {

inline void fuzzOne(engine::Engine& engine, std::span<const uint8_t> bytes) {
  using namespace engine;
  auto module = engine.compile(bytes);
  if (!module.ok()) return;
  std::vector<Extern> imports;
  for (const auto& imp : (*module)->info().imports) {
    switch (imp.type.kind) {
      case ExternKind::kFunc: {
        auto fn = std::make_shared<HostFunc>();
        fn->type = imp.type.func;
        size_t n = fn->type.results.size();
        fn->callback = [n](Caller&, Cell* cells) -> Expected<void> {
          for (size_t i = 0; i < n; ++i) std::memset(&cells[i], 0, sizeof(Cell));
          return {};
        };
        imports.push_back(makeHostFunc(fn));
        break;
      }
      case ExternKind::kMemory: {
        if (imp.type.memory.limits.min > 1024) return;
        auto m = makeHostMemory(imp.type.memory);
        if (!m.ok()) return;
        imports.push_back(*m);
        break;
      }
      case ExternKind::kTable: {
        if (imp.type.table.limits.min > 100000) return;
        auto t = makeHostTable(imp.type.table);
        if (!t.ok()) return;
        imports.push_back(*t);
        break;
      }
      case ExternKind::kGlobal:
        imports.push_back(makeHostGlobal(imp.type.global, Cell{}));
        break;
      default:
        return;
    }
  }
  InstanceOptions options;
  options.memory_limit_bytes = 64 << 20;
  auto inst = Instance::create(engine, *module, std::move(imports), options);
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
