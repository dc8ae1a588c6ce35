// Control-interface subjects, envelopes, wire types and CloudEvents; see ctl.h.
#include "lattice/ctl.h"

#include <sodium.h>

#include <ctime>

namespace cumulus::lattice {

std::string ctlBase(std::string_view prefix, std::string_view lattice) {
  return fmt::format("{}.v1.{}", prefix, lattice);
}

std::string ctlSubject(std::string_view prefix, std::string_view lattice, std::string_view noun,
                       std::string_view verb, std::string_view name) {
  if (name.empty()) return fmt::format("{}.{}.{}", ctlBase(prefix, lattice), noun, verb);
  return fmt::format("{}.{}.{}.{}", ctlBase(prefix, lattice), noun, verb, name);
}

std::string eventSubject(std::string_view lattice, std::string_view event_type) {
  return fmt::format("wasmbus.evt.{}.{}", lattice, event_type);
}

std::optional<CtlOperation> parseCtlSubject(std::string_view subject, std::string_view prefix) {
  if (subject.size() <= prefix.size() || subject.substr(0, prefix.size()) != prefix ||
      subject[prefix.size()] != '.') {
    return std::nullopt;
  }
  std::string_view rest = subject.substr(prefix.size() + 1);
  std::vector<std::string> tokens;
  while (true) {
    size_t dot = rest.find('.');
    tokens.emplace_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest = rest.substr(dot + 1);
  }
  CtlOperation op;
  if (tokens.size() > 2) op.noun = tokens[2];
  if (tokens.size() > 3) op.verb = tokens[3];
  if (tokens.size() > 4) op.name = tokens[4];
  return op;
}

bool isSubjectToken(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c == '.' || c == '*' || c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n') return false;
  }
  return true;
}

nlohmann::json ctlOk(nlohmann::json response) {
  return {{"success", true}, {"message", ""}, {"response", std::move(response)}};
}

nlohmann::json ctlAck(std::string_view message) {
  return {{"success", true}, {"message", std::string(message)}};
}

nlohmann::json ctlError(std::string_view message) {
  return {{"success", false}, {"message", std::string(message)}};
}

nlohmann::json toJson(const ComponentDescription& c) {
  nlohmann::json j = {{"id", c.id},
                      {"image_ref", c.image_ref},
                      {"revision", c.revision},
                      {"max_instances", c.max_instances},
                      {"limits", nullptr}};
  if (c.name) j["name"] = *c.name;
  if (!c.annotations.empty()) j["annotations"] = c.annotations;
  return j;
}

nlohmann::json toJson(const ProviderDescription& p) {
  nlohmann::json j = {{"id", p.id}, {"revision", p.revision}};
  if (p.image_ref) j["image_ref"] = *p.image_ref;
  if (p.name) j["name"] = *p.name;
  if (!p.annotations.empty()) j["annotations"] = p.annotations;
  return j;
}

nlohmann::json toJson(const HostInfo& h) {
  nlohmann::json j = {{"id", h.id},
                      {"friendly_name", h.friendly_name},
                      {"labels", h.labels},
                      {"lattice", h.lattice},
                      {"uptime_seconds", h.uptime_seconds},
                      {"uptime_human", humanDuration(h.uptime_seconds)},
                      {"version", h.version},
                      {"ctl_host", h.ctl_host},
                      {"rpc_host", h.rpc_host}};
  if (h.js_domain) j["js_domain"] = *h.js_domain;
  return j;
}

nlohmann::json toJson(const HostInventory& inv) {
  nlohmann::json components = nlohmann::json::array();
  for (const auto& c : inv.components) components.push_back(toJson(c));
  nlohmann::json providers = nlohmann::json::array();
  for (const auto& p : inv.providers) providers.push_back(toJson(p));
  return {{"components", std::move(components)},
          {"providers", std::move(providers)},
          {"host_id", inv.host_id},
          {"friendly_name", inv.friendly_name},
          {"labels", inv.labels},
          {"version", inv.version},
          {"uptime_human", humanDuration(inv.uptime_seconds)},
          {"uptime_seconds", inv.uptime_seconds}};
}

std::string humanDuration(uint64_t seconds) {
  if (seconds == 0) return "0s";
  // humantime's calendar: a year is 365.25 days, a month 30.44 days.
  constexpr uint64_t kYear = 31'557'600, kMonth = 2'630'016, kDay = 86'400;
  uint64_t years = seconds / kYear;
  seconds %= kYear;
  uint64_t months = seconds / kMonth;
  seconds %= kMonth;
  uint64_t days = seconds / kDay;
  seconds %= kDay;
  uint64_t hours = seconds / 3600, minutes = seconds / 60 % 60, secs = seconds % 60;
  std::string out;
  auto item = [&](uint64_t n, std::string_view unit, bool plural) {
    if (n == 0) return;
    if (!out.empty()) out += ' ';
    out += fmt::format("{}{}{}", n, unit, plural && n > 1 ? "s" : "");
  };
  item(years, "year", true);
  item(months, "month", true);
  item(days, "day", true);
  item(hours, "h", false);
  item(minutes, "m", false);
  item(secs, "s", false);
  return out;
}

std::string newEventId() {
  if (sodium_init() < 0) std::abort();
  uint8_t b[16];
  uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  randombytes_buf(b + 6, 10);
  return fmt::format("{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
                     "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                     b[12], b[13], b[14], b[15]);
}

std::string rfc3339Utc(std::chrono::system_clock::time_point t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1'000'000);
}

nlohmann::json cloudEvent(std::string_view event_type, std::string_view source,
                          nlohmann::json data) {
  return {{"specversion", "1.0"},
          {"id", newEventId()},
          {"type", fmt::format("com.wasmcloud.lattice.{}", event_type)},
          {"source", std::string(source)},
          {"time", rfc3339Utc(std::chrono::system_clock::now())},
          {"datacontenttype", "application/json"},
          {"data", std::move(data)}};
}

}  // namespace cumulus::lattice
