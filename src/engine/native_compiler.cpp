// Optimized tier: the system C compiler builds a shared object from the translated C, kept in an
// on-disk code cache.
//
// Cache layout, in `cache_dir`:  <key>.so  and  <key>.so.sha256 (hex SHA-256 of the .so bytes).
// The key hashes the wasm bytes, kTranslatorVersion, the compiler's `--version` line and the flags,
// so any change of translator or compiler misses the cache. Writers compile to a unique temporary
// name and rename into place (safe when several hosts share the directory); readers verify the
// checksum before dlopen and delete and rebuild an entry that does not match (a torn or corrupt
// file never loads).
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "base/file.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/subprocess.h"
#include "engine/code.h"

namespace cumulus::engine {

namespace {

// Flags every optimized-tier compile uses (part of the cache key):
// -fsignaling-nans keeps gcc from folding x*1.0 or x-0.0 to x (wasm requires a quieted NaN);
// -fstack-clash-protection keeps large frames from stepping over the stack guard;
// -fvisibility=hidden: functions of a module split into units call each other directly, not
// through the PLT (only the glue entry points are exported);
// -fno-optimize-sibling-calls keeps runaway recursion a stack-exhaustion trap (at -O2 gcc turns
// tail-recursive wasm functions into loops that would spin until their deadline instead).
constexpr const char* kFixedFlags =
    "-shared -fPIC -fvisibility=hidden -fno-strict-aliasing -fsignaling-nans "
    "-fstack-clash-protection "
    "-fno-optimize-sibling-calls -w";

class NativeCode final : public CompiledCode {
 public:
  explicit NativeCode(void* handle) : CompiledCode(Tier::kOptimized), handle_(handle) {}
  ~NativeCode() override { dlclose(handle_); }
  GlueEntryPoints& entryMut() { return entry_; }
  void* handle() { return handle_; }

 private:
  void* handle_;
};

std::string compilerIdentity(const std::string& compiler) {
  static std::mutex mu;
  static std::map<std::string, std::string> cache;  // GUARDED_BY(mu)
  std::lock_guard lock(mu);
  auto it = cache.find(compiler);
  if (it != cache.end()) return it->second;
  std::string id = compiler;
  auto r = runSubprocess({compiler, "--version"}, std::chrono::seconds(10));
  if (r.ok() && r->exit_code == 0) id = r->output.substr(0, r->output.find('\n'));
  cache.emplace(compiler, id);
  return id;
}

std::vector<std::string> splitFlags(const std::string& flags) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < flags.size()) {
    size_t j = flags.find(' ', i);
    if (j == std::string::npos) j = flags.size();
    if (j > i) out.push_back(flags.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Expected<std::shared_ptr<CompiledCode>> openSharedObject(const std::filesystem::path& so) {
  void* h = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) return makeError(ErrorCode::kInternal, "dlopen {}: {}", so.string(), dlerror());
  auto code = std::make_shared<NativeCode>(h);
  GlueEntryPoints& e = code->entryMut();
  if (!resolveGlueEntryPoints([h](const char* name) { return dlsym(h, name); }, e))
    return makeError(ErrorCode::kInternal, "{}: glue entry points missing", so.string());
  e.init_module();
  return std::shared_ptr<CompiledCode>(std::move(code));
}

}  // namespace

std::string defaultOptFlags() {
  if (const char* f = std::getenv("CUMULUS_OPT_FLAGS"); f && *f) return f;
  return "-O2";
}

std::filesystem::path defaultCacheDir() {
  if (const char* d = std::getenv("CUMULUS_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::filesystem::path(x) / "cumulus";
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::filesystem::path(h) / ".cache" / "cumulus";
  return std::filesystem::temp_directory_path() / "cumulus-cache";
}

std::string nativeCacheKey(const NativeCompilerConfig& config, std::span<const uint8_t> wasm,
                           size_t units) {
  Sha256Builder b;
  b.add(wasm)
      .add(kTranslatorVersion)
      .add(compilerIdentity(config.compiler))
      .add(config.opt_flags)
      .add(kFixedFlags);
  if (units != 0) b.add(fmt::format("units={}", units));
  auto digest = b.finish();
  return toHex(digest);
}

Expected<std::shared_ptr<CompiledCode>> loadCachedNative(const NativeCompilerConfig& config,
                                                         const std::string& key) {
  auto so = config.cache_dir / (key + ".so");
  auto sum = config.cache_dir / (key + ".so.sha256");
  std::error_code ec;
  if (!std::filesystem::exists(so, ec)) return makeError(ErrorCode::kNotFound, "not cached");
  auto bytes = readFile(so);
  auto expected = readTextFile(sum);
  if (!bytes.ok() || !expected.ok() || toHex(sha256(*bytes)) != *expected) {
    log().warn("code cache: entry {} is corrupt or incomplete; removing it", so.string());
    std::filesystem::remove(so, ec);
    std::filesystem::remove(sum, ec);
    return makeError(ErrorCode::kNotFound, "corrupt cache entry removed");
  }
  auto code = openSharedObject(so);
  if (!code.ok()) {
    log().warn("code cache: {}; removing it", code.error().message());
    std::filesystem::remove(so, ec);
    std::filesystem::remove(sum, ec);
  }
  return code;
}

Expected<std::shared_ptr<CompiledCode>> compileNative(const NativeCompilerConfig& config,
                                                      const std::string& key,
                                                      const std::vector<std::string>& units,
                                                      const std::atomic<bool>* cancel) {
  std::error_code ec;
  std::filesystem::create_directories(config.cache_dir, ec);
  if (ec)
    return makeError(ErrorCode::kIo, "cannot create code cache {}: {}", config.cache_dir.string(),
                     ec.message());
  std::random_device rd;
  std::string tmp_base = fmt::format("{}.{:x}{:x}", key, rd(), getpid());
  auto so_tmp = config.cache_dir / (tmp_base + ".so");
  std::vector<std::filesystem::path> c_paths;
  auto removeSources = [&] {
    for (const auto& p : c_paths) std::filesystem::remove(p, ec);
  };
  for (size_t i = 0; i < units.size(); ++i) {
    c_paths.push_back(config.cache_dir / fmt::format("{}.{}.c", tmp_base, i));
    auto written = writeFileAtomic(
        c_paths.back(),
        std::span(reinterpret_cast<const uint8_t*>(units[i].data()), units[i].size()));
    if (!written.ok()) {
      removeSources();
      return std::move(written).error();
    }
  }
  std::vector<std::string> compile = {config.compiler};
  for (auto& f : splitFlags(config.opt_flags)) compile.push_back(f);
  for (auto& f : splitFlags(kFixedFlags)) compile.push_back(f);
  auto check = [&](const Expected<SubprocessResult>& r) -> Expected<void> {
    if (!r.ok()) return r.error();  // a copy: results are checked twice
    if (r->exit_code != 0 || r->term_signal != 0)
      return makeError(ErrorCode::kInternal, "optimized tier: {} failed (exit {}, signal {}): {}",
                       config.compiler, r->exit_code, r->term_signal, r->output.substr(0, 2000));
    return {};
  };
  std::vector<std::string> link = compile;
  link.insert(link.end(), {"-o", so_tmp.string()});
  std::vector<std::filesystem::path> o_paths;
  Expected<void> built{};
  if (units.size() == 1) {
    link.push_back(c_paths[0].string());
  } else {
    // Units compile in parallel, one compiler process per core, then link (StarlingMonkey's 16
    // units: 7.7 min in one process).
    std::vector<std::optional<Expected<SubprocessResult>>> results(units.size());  // none: skipped
    for (size_t i = 0; i < units.size(); ++i)
      o_paths.push_back(config.cache_dir / fmt::format("{}.{}.o", tmp_base, i));
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};  // one unit failed: the rest are not worth compiling
    auto work = [&] {
      for (size_t k; !failed && (k = next.fetch_add(1)) < units.size();) {
        std::vector<std::string> argv = compile;
        argv.insert(argv.end(), {"-c", "-o", o_paths[k].string(), c_paths[k].string()});
        results[k] = runSubprocess(argv, std::chrono::hours(1), cancel);
        if (!check(*results[k]).ok()) failed = true;
      }
    };
    size_t jobs = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, units.size());
    {
      std::vector<std::jthread> pool;  // joined when the block ends, whatever happens
      for (size_t t = 1; t < jobs; ++t) pool.emplace_back(work);
      work();
    }
    for (auto& r : results)
      if (r && (built = check(*r), !built.ok())) break;
    for (const auto& p : o_paths) link.push_back(p.string());
  }
  if (built.ok()) {
    link.push_back("-lm");
    auto r = runSubprocess(link, std::chrono::hours(1), cancel);
    built = check(r);
  }
  removeSources();
  for (const auto& p : o_paths) std::filesystem::remove(p, ec);
  if (!built.ok()) {
    std::filesystem::remove(so_tmp, ec);
    return std::move(built).error();
  }
  CUMULUS_TRY(auto bytes, readFile(so_tmp));
  std::string digest = toHex(sha256(bytes));
  auto so = config.cache_dir / (key + ".so");
  auto sum = config.cache_dir / (key + ".so.sha256");
  CUMULUS_TRY_VOID(writeFileAtomic(
      sum, std::span(reinterpret_cast<const uint8_t*>(digest.data()), digest.size())));
  std::filesystem::rename(so_tmp, so, ec);
  if (ec) return makeError(ErrorCode::kIo, "cannot place {}: {}", so.string(), ec.message());
  return openSharedObject(so);
}

const char* tierName(Tier t) {
  switch (t) {
    case Tier::kBaseline:
      return "baseline";
    case Tier::kOptimized:
      return "optimized";
    case Tier::kInterpreter:
      return "interpreter";
  }
  return "?";
}

}  // namespace cumulus::engine
