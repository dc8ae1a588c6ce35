// The text of wasm_rt.h, embedded at build time (CMake generates embedded.cpp from the header) so
// the baseline tier compiles translated modules entirely in memory.
#pragma once

namespace cumulus::engine::rt {
extern const char* const kWasmRtHeader;
}
