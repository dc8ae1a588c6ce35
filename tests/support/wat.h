// Test helper: WebAssembly text -> binary with libwabt, so tests state their modules inline.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <wabt/binary-writer.h>
#include <wabt/ir.h>
#include <wabt/resolve-names.h>
#include <wabt/stream.h>
#include <wabt/validator.h>
#include <wabt/wast-lexer.h>
#include <wabt/wast-parser.h>

namespace cumulus::test {

inline std::vector<uint8_t> wat(const std::string& text) {
  wabt::Errors errors;
  auto lexer = wabt::WastLexer::CreateBufferLexer("test.wat", text.data(), text.size(), &errors);
  wabt::Features features;
  features.enable_multi_memory();
  features.enable_extended_const();
  wabt::WastParseOptions popts(features);
  std::unique_ptr<wabt::Module> module;
  if (wabt::Failed(wabt::ParseWatModule(lexer.get(), &module, &errors, &popts)) ||
      wabt::Failed(wabt::ResolveNamesModule(module.get(), &errors))) {
    throw std::runtime_error("bad wat: " +
                             (errors.empty() ? std::string("?") : errors.front().message));
  }
  wabt::MemoryStream stream;
  wabt::WriteBinaryOptions wopts(features, true, false, true);
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, module.get(), wopts)))
    throw std::runtime_error("cannot write wasm");
  return stream.output_buffer().data;
}

}  // namespace cumulus::test
