# Turns a text file into a C++ string constant (rt::kWasmRtHeader).
file(READ ${IN} CONTENT)
set(DELIM "CUMULUS_EMBED")
file(WRITE ${OUT} "// Generated from wasm_rt.h by embed.cmake. Do not edit.\n#include \"engine/rt/embedded.h\"\nnamespace cumulus::engine::rt {\nconst char* const kWasmRtHeader = R\"${DELIM}(${CONTENT})${DELIM}\";\n}\n")
