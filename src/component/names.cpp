// Component-model names (see names.h).
#include "component/names.h"

#include <cctype>

namespace cumulus::component {

namespace {

bool isLower(char c) { return c >= 'a' && c <= 'z'; }
bool isUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// label ::= first-fragment ('-' fragment)*: each fragment all-lowercase-or-digits (a word) or
// all-uppercase-or-digits (an acronym); the first starts with a letter.
bool isLabel(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  bool first = true;
  while (true) {
    size_t j = s.find('-', i);
    std::string_view frag =
        s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    if (frag.empty()) return false;
    if (first && !isLower(frag[0]) && !isUpper(frag[0])) return false;
    bool lower = false, upper = false;
    for (char c : frag) {
      if (isLower(c))
        lower = true;
      else if (isUpper(c))
        upper = true;
      else if (!isDigit(c))
        return false;
    }
    if (lower && upper) return false;
    first = false;
    if (j == std::string_view::npos) return true;
    i = j + 1;
  }
}

// words ::= first-word ('-' word)*: lowercase only.
bool isWords(std::string_view s) {
  if (s.empty() || !isLower(s[0])) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '-') {
      if (i + 1 == s.size() || s[i + 1] == '-') return false;
    } else if (!isLower(c) && !isDigit(c)) {
      return false;
    }
  }
  return true;
}

bool isSemver(std::string_view v) {
  // MAJOR.MINOR.PATCH with optional -prerelease and +build (identifiers [0-9A-Za-z-]).
  size_t plus = v.find('+');
  std::string_view build = plus == std::string_view::npos ? "" : v.substr(plus + 1);
  std::string_view core = v.substr(0, plus);
  size_t dash = core.find('-');
  std::string_view pre = dash == std::string_view::npos ? "" : core.substr(dash + 1);
  core = core.substr(0, dash);
  auto idents = [](std::string_view x, bool numeric_no_zero) {
    if (x.empty()) return false;
    size_t i = 0;
    while (true) {
      size_t j = x.find('.', i);
      std::string_view id =
          x.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
      if (id.empty()) return false;
      bool all_digits = true;
      for (char c : id) {
        if (!isDigit(c) && !isLower(c) && !isUpper(c) && c != '-') return false;
        if (!isDigit(c)) all_digits = false;
      }
      if (numeric_no_zero && all_digits && id.size() > 1 && id[0] == '0') return false;
      if (j == std::string_view::npos) return true;
      i = j + 1;
    }
  };
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t j = core.find('.', i);
    std::string_view n =
        core.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    if (n.empty() || (n.size() > 1 && n[0] == '0')) return false;
    for (char c : n)
      if (!isDigit(c)) return false;
    ++parts;
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  if (parts != 3) return false;
  if (dash != std::string_view::npos && !idents(pre, true)) return false;
  if (plus != std::string_view::npos && !idents(build, false)) return false;
  return true;
}

// interfacename ::= (words ':')+ words ('/' label)+ ('@' semver)?
bool isInterfaceName(std::string_view s) {
  size_t at = s.find('@');
  if (at != std::string_view::npos && !isSemver(s.substr(at + 1))) return false;
  std::string_view path = s.substr(0, at);
  size_t colon = path.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view ns = path.substr(0, colon);
  size_t i = 0;
  while (true) {
    size_t j = ns.find(':', i);
    if (!isWords(ns.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i)))
      return false;
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  std::string_view rest = path.substr(colon + 1);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || !isWords(rest.substr(0, slash))) return false;
  std::string_view projections = rest.substr(slash + 1);
  i = 0;
  while (true) {
    size_t j = projections.find('/', i);
    if (!isLabel(
            projections.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i)))
      return false;
    if (j == std::string_view::npos) return true;
    i = j + 1;
  }
}

std::string nestedNameProblem(std::string_view s) {
  std::string_view path = s.substr(0, s.find('@'));
  size_t colon = path.find(':');
  if (colon == std::string_view::npos) return {};
  size_t slash = path.find('/');
  if (path.find(':', colon + 1) < slash) return "expected `/` after package name";
  if (slash == std::string_view::npos) return {};
  size_t second = path.find('/', slash + 1);
  if (second != std::string_view::npos)
    return "trailing characters found: `" + std::string(path.substr(second)) + "`";
  return {};
}

// Strong uniqueness of import/export names (Explainer.md "Name Uniqueness").
std::string uniquenessKey(std::string_view name) {
  std::string s = lowercase(name);
  for (std::string_view prefix : {"[method]", "[static]"}) {
    if (s.starts_with(prefix)) {
      std::string rest = s.substr(prefix.size());
      size_t dot = rest.find('.');
      if (dot != std::string::npos && rest.substr(0, dot) == rest.substr(dot + 1))
        return rest.substr(0, dot);
      return rest;
    }
  }
  if (s.starts_with("[") && !s.starts_with("[constructor]")) {
    size_t close = s.find(']');
    if (close != std::string::npos) return s.substr(close + 1);
  }
  return s;
}

std::optional<SemVer> parseSemver(std::string_view v) {
  SemVer s;
  size_t plus = v.find('+');
  v = v.substr(0, plus);
  size_t dash = v.find('-');
  if (dash != std::string_view::npos) {
    s.pre = std::string(v.substr(dash + 1));
    v = v.substr(0, dash);
  }
  uint64_t* parts[] = {&s.major, &s.minor, &s.patch};
  size_t i = 0;
  for (int k = 0; k < 3; ++k) {
    if (i >= v.size() || !std::isdigit(static_cast<unsigned char>(v[i]))) return std::nullopt;
    uint64_t n = 0;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])))
      n = n * 10 + (v[i++] - '0');
    *parts[k] = n;
    if (k < 2) {
      if (i >= v.size() || v[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != v.size()) return std::nullopt;
  return s;
}

std::pair<std::string_view, std::string_view> splitVersion(std::string_view name) {
  size_t at = name.find('@');
  if (at == std::string_view::npos) return {name, {}};
  return {name.substr(0, at), name.substr(at + 1)};
}

bool semverCompatible(std::string_view wanted, std::string_view provided) {
  if (wanted == provided) return true;
  auto [wn, wv] = splitVersion(wanted);
  auto [pn, pv] = splitVersion(provided);
  if (wn != pn || wv.empty() || pv.empty()) return false;
  auto w = parseSemver(wv);
  auto p = parseSemver(pv);
  if (!w || !p || !w->pre.empty() || !p->pre.empty()) return false;
  if (w->major != p->major) return false;
  if (w->major > 0) return p->minor > w->minor || (p->minor == w->minor && p->patch >= w->patch);
  if (w->minor != p->minor) return false;
  return w->minor > 0 && p->patch >= w->patch;
}

}  // namespace cumulus::component
