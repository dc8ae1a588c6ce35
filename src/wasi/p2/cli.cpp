// wasi:cli (environment, exit, stdio, terminal-*), wasi:clocks (monotonic, wall) and wasi:random.
#include <unistd.h>

#include <ctime>

#include <sodium.h>

#include "wasi/p2/ctx.h"

namespace cumulus::wasi {

using component::CallContext;
using component::Val;
using Args = std::vector<Val>;

namespace {

struct Terminal : Object {};

Val exitWith(CallContext& cx, int code) {
  ctx(cx).setExitCode(code);
  return Val();
}

uint64_t monotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

std::unique_ptr<Pollable> timer(uint64_t when_ns) {
  auto p = std::make_unique<Pollable>();
  uint64_t now = monotonicNs();
  p->deadline = std::chrono::steady_clock::now() +
                std::chrono::nanoseconds(when_ns > now ? when_ns - now : 0);
  return p;
}

Val randomBytes(uint64_t len) {
  std::string b(static_cast<size_t>(len), '\0');
  randombytes_buf(b.data(), b.size());
  return Val::bytes(std::move(b));
}

uint64_t randomU64() {
  uint64_t v;
  randombytes_buf(&v, sizeof v);
  return v;
}

}  // namespace

void addCli(component::Linker& l, Types& t) {
  Types* tp = &t;
  const std::string env = iface("wasi:cli/environment");
  l.func(env, "get-environment", [](CallContext& cx, Args&) -> Expected<Val> {
    std::vector<Val> out;
    for (const auto& [k, v] : ctx(cx).config().env)
      out.push_back(Val::tuple({Val::string(k), Val::string(v)}));
    return Val::list(std::move(out));
  });
  l.func(env, "get-arguments", [](CallContext& cx, Args&) -> Expected<Val> {
    std::vector<Val> out;
    for (const auto& a : ctx(cx).config().args) out.push_back(Val::string(a));
    return Val::list(std::move(out));
  });
  l.func(env, "initial-cwd", [](CallContext& cx, Args&) -> Expected<Val> {
    const auto& cwd = ctx(cx).config().cwd;
    return cwd ? Val::some(Val::string(*cwd)) : Val::none();
  });

  // exit: records the status and unwinds the guest with a trap the embedder recognises by the
  // context's exit code.
  const std::string exit = iface("wasi:cli/exit");
  l.func(exit, "exit", [](CallContext& cx, Args& a) -> Expected<Val> {
    exitWith(cx, a[0].discriminant() == 0 ? 0 : 1);
    return makeError(ErrorCode::kTrap, "exit");
  });
  l.func(exit, "exit-with-code", [](CallContext& cx, Args& a) -> Expected<Val> {
    exitWith(cx, static_cast<int>(a[0].asU32() & 0xff));
    return makeError(ErrorCode::kTrap, "exit");
  });

  l.func(iface("wasi:cli/stdin"), "get-stdin", [tp](CallContext& cx, Args&) -> Expected<Val> {
    if (!ctx(cx).config().inherit_stdin) return own(cx, tp->input_stream, emptyInputStream());
    return own(cx, tp->input_stream, fdInputStream(0, std::nullopt));
  });
  auto out = [tp](int fd) {
    return [tp, fd](CallContext& cx, Args&) -> Expected<Val> {
      const auto& sink = fd == 1 ? ctx(cx).config().stdout_sink : ctx(cx).config().stderr_sink;
      if (sink) return own(cx, tp->output_stream, callbackOutputStream(sink));
      return own(cx, tp->output_stream, fdOutputStream(fd, std::nullopt, false));
    };
  };
  l.func(iface("wasi:cli/stdout"), "get-stdout", out(1));
  l.func(iface("wasi:cli/stderr"), "get-stderr", out(2));

  t.terminal_input = l.resource(iface("wasi:cli/terminal-input"), "terminal-input", dropObject);
  t.terminal_output = l.resource(iface("wasi:cli/terminal-output"), "terminal-output", dropObject);
  auto terminal = [](const component::ResourceType* const* type, int fd) {
    return [type, fd](CallContext& cx, Args&) -> Expected<Val> {
      bool captured = (fd == 0 && !ctx(cx).config().inherit_stdin) ||
                      (fd == 1 && ctx(cx).config().stdout_sink) ||
                      (fd == 2 && ctx(cx).config().stderr_sink);
      if (captured || !::isatty(fd)) return Val::none();
      return Val::some(own(cx, *type, std::make_unique<Terminal>()));
    };
  };
  l.func(iface("wasi:cli/terminal-stdin"), "get-terminal-stdin", terminal(&tp->terminal_input, 0));
  l.func(iface("wasi:cli/terminal-stdout"), "get-terminal-stdout",
         terminal(&tp->terminal_output, 1));
  l.func(iface("wasi:cli/terminal-stderr"), "get-terminal-stderr",
         terminal(&tp->terminal_output, 2));
}

void addClocksRandom(component::Linker& l, Types& t) {
  Types* tp = &t;
  const std::string mono = iface("wasi:clocks/monotonic-clock");
  l.func(mono, "now", [](CallContext&, Args&) -> Expected<Val> { return Val::u64(monotonicNs()); });
  l.func(mono, "resolution", [](CallContext&, Args&) -> Expected<Val> {
    timespec ts{};
    clock_getres(CLOCK_MONOTONIC, &ts);
    return Val::u64(uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec));
  });
  l.func(mono, "subscribe-instant", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    return own(cx, tp->pollable, timer(a[0].asU64()));
  });
  l.func(mono, "subscribe-duration", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    return own(cx, tp->pollable, timer(monotonicNs() + a[0].asU64()));
  });
  const std::string wall = iface("wasi:clocks/wall-clock");
  auto datetime = [](clockid_t id, bool res) {
    return [id, res](CallContext&, Args&) -> Expected<Val> {
      timespec ts{};
      if (res)
        clock_getres(id, &ts);
      else
        clock_gettime(id, &ts);
      return Val::record(
          {Val::u64(static_cast<uint64_t>(ts.tv_sec)), Val::u32(static_cast<uint32_t>(ts.tv_nsec))});
    };
  };
  l.func(wall, "now", datetime(CLOCK_REALTIME, false));
  l.func(wall, "resolution", datetime(CLOCK_REALTIME, true));

  if (sodium_init() < 0) return;  // libsodium cannot fail here on Linux; random funcs then trap
  const std::string random = iface("wasi:random/random");
  l.func(random, "get-random-bytes",
         [](CallContext&, Args& a) -> Expected<Val> { return randomBytes(a[0].asU64()); });
  l.func(random, "get-random-u64",
         [](CallContext&, Args&) -> Expected<Val> { return Val::u64(randomU64()); });
  const std::string insecure = iface("wasi:random/insecure");
  l.func(insecure, "get-insecure-random-bytes",
         [](CallContext&, Args& a) -> Expected<Val> { return randomBytes(a[0].asU64()); });
  l.func(insecure, "get-insecure-random-u64",
         [](CallContext&, Args&) -> Expected<Val> { return Val::u64(randomU64()); });
  l.func(iface("wasi:random/insecure-seed"), "insecure-seed",
         [](CallContext&, Args&) -> Expected<Val> {
           return Val::tuple({Val::u64(randomU64()), Val::u64(randomU64())});
         });
}

}  // namespace cumulus::wasi
