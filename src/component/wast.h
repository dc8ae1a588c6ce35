// The component-model script runner: executes the top-level forms of a component-model `.wast`
// (WebAssembly/component-model `test/` and wasmtime's `tests/misc_testsuite/component-model`)
// against the component runtime and counts passed directives. Used by `cumulus component-wast`
// and tests/conformance/run_component_wast.sh.
//
// The component forms themselves are not parsed here: every `(component ...)` of a script was
// compiled ahead of time to a binary (jco parse), listed in a manifest by script and top-level
// form index. The runner reads the script with a small s-expression reader, walks its forms in
// order and for each one picks the compiled binary:
//
//   (component [$name] ...)            instantiate; the instance becomes the current one
//   (component definition $X ...)      plan only; `(component instance $i $X)` instantiates it
//   (assert_return (invoke [$i] "f" args...) results...)   (invoke ...)
//   (assert_trap (invoke ...) "msg")   (assert_trap (component ...) "msg")
//   (assert_unlinkable (component ...) "msg")   (assert_invalid (component ...) "msg")
//
// Arguments and results in the wast value syntax ((u32.const 1), (str.const "x"),
// (record.const (field "a" ...)), (variant.const "c" ...), (flags.const "a" "b"), ...) are
// converted to `Val`s guided by the invoked function's type. Imports are served by the host
// definitions wasmtime's wast harness provides (`host-return-two`, the `host` instance with its
// resources). wasmtime's trap messages are not ours: an `assert_trap` passes when the trap is of
// the kind the expected message names (unreachable, unaligned pointer, out of bounds, invalid
// char, handle index N, ...; see trapKinds in wast.cpp), or on any trap when it names no known
// kind. `assert_unlinkable` wants a link error, `assert_invalid` a rejection that is not one
// (a missing import does not make a component invalid); their messages show under --verbose.
//
// Every directive counts once (definitions and instantiations too); a directive is skipped when
// the skip list names it ("script:LINE" or the whole "script") or when it cannot run here (an
// async component, a form the compiler did not turn into a binary); each skip carries its reason.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "engine/engine.h"

namespace cumulus::component {

// The compiled forms: manifest.json of the compiled directory.
class WastManifest {
 public:
  struct Entry {
    std::string kind;  // component, assert_invalid, assert_unlinkable, assert_trap
    std::filesystem::path file;
    bool async = false;
  };
  // Reads `dir`/manifest.json; binaries are relative to `dir`, scripts (`source_wast`) to its
  // parent.
  static Expected<WastManifest> load(const std::filesystem::path& dir);
  // The script name the manifest uses for `wast` ("spec-repo/values/strings.wast"), or the path
  // as given when the script is not under the fixture root.
  std::string scriptName(const std::filesystem::path& wast) const;
  const Entry* find(const std::string& script, size_t form_index) const;

 private:
  std::filesystem::path root_;
  std::map<std::string, std::map<size_t, Entry>> entries_;
};

struct ComponentWastOptions {
  // Skip-list keys ("script:LINE" or "script", script as WastManifest::scriptName) → reason.
  std::map<std::string, std::string> skip;
};

struct ComponentWastResult {
  uint64_t passed = 0;
  uint64_t total = 0;
  uint64_t skipped = 0;
  std::vector<std::string> failures;  // "script:line: what went wrong"
  std::vector<std::string> skips;     // "script:line: reason"
  std::vector<std::string> notes;     // traps with another message than wasmtime's (verbose)
};

// Runs one script. Errors only for an unreadable or unparsable script; failed directives are in
// the result.
Expected<ComponentWastResult> runComponentWast(engine::Engine& engine, const WastManifest& manifest,
                                               const std::filesystem::path& wast,
                                               const ComponentWastOptions& options);

}  // namespace cumulus::component
