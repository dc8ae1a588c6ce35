// Error values for every layer: an `Error {code, message, context}` that says what failed and how
// to fix it, and `Expected<T>`, a small value-or-error type shaped like C++23 std::expected (GCC
// 12's libstdc++ has no <expected> in C++20 mode). Errors are values: no exceptions cross layer
// boundaries.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace cumulus {

enum class ErrorCode {
  kInvalidArgument,  // bad input from a user or peer (malformed wasm, bad JSON, …)
  kNotFound,
  kUnsupported,    // valid input using something Cumulus does not implement
  kLinkError,      // imports cannot be satisfied
  kTrap,           // WebAssembly trap
  kResourceLimit,  // a configured limit was hit
  kIo,
  kInternal,
};

const char* errorCodeName(ErrorCode code);

class [[nodiscard]] Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  // A code-specific detail (for kTrap: the trap code). 0 when unused.
  int detail() const { return detail_; }
  Error& withDetail(int detail) {
    detail_ = detail;
    return *this;
  }
  const std::string& message() const { return message_; }
  // Adds an outer context line ("loading foo.wasm: …").
  Error& withContext(std::string_view context) {
    message_ = fmt::format("{}: {}", context, message_);
    return *this;
  }
  std::string toString() const { return message_; }

 private:
  ErrorCode code_;
  int detail_ = 0;
  std::string message_;
};

template <typename... Args>
Error makeError(ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  return Error(code, fmt::format(f, std::forward<Args>(args)...));
}

// Value-or-error. `Expected<void>` carries only success or an Error.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Expected(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool ok_ = true;
};

// `CUMULUS_TRY(auto x, expr)` style helpers: return the error upward.
#define CUMULUS_CONCAT_(a, b) a##b
#define CUMULUS_CONCAT(a, b) CUMULUS_CONCAT_(a, b)
#define CUMULUS_TRY_IMPL(tmp, decl, expr)       \
  auto tmp = (expr);                            \
  if (!tmp.ok()) return std::move(tmp).error(); \
  decl = std::move(tmp).value()
#define CUMULUS_TRY(decl, expr) CUMULUS_TRY_IMPL(CUMULUS_CONCAT(try_tmp_, __LINE__), decl, expr)
#define CUMULUS_TRY_VOID(expr)                                \
  do {                                                        \
    auto try_tmp_v = (expr);                                  \
    if (!try_tmp_v.ok()) return std::move(try_tmp_v).error(); \
  } while (0)

}  // namespace cumulus
