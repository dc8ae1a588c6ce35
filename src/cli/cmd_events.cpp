// `cumulus events [--type T]… [--count N]`: watch the lattice's CloudEvents (PROTOCOL.md §2) on
// `wasmbus.evt.{lattice}.>` (optionally only the given types), like `wash spy` for the control
// plane. Text mode prints one line per event: time, type without the `com.wasmcloud.lattice.`
// prefix, source host and compact data; -o json prints each whole CloudEvent as one JSON line.
// Runs until Ctrl-C / SIGTERM or N events. A "watching …" line on stderr says the
// subscription is in place.
#include <set>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ctl_client.h"
#include "cli/stop_signals.h"
#include "lattice/ctl.h"

namespace cumulus::cli {
namespace {

constexpr std::string_view kEventTypePrefix = "com.wasmcloud.lattice.";

struct EventsArgs {
  CtlOptions ctl;
  std::vector<std::string> types;
  uint64_t count = 0;  // 0: until stopped
};

Expected<void> watchEvents(const EventsArgs& a) {
  // Before any libnats thread exists, so Ctrl-C is taken by sigtimedwait below.
  sigset_t stop_set = blockStopSignals();
  // One subscription for everything, filtered here: separate subscriptions would be delivered
  // on separate threads and could print events out of order.
  std::set<std::string> types;
  for (std::string type : a.types) {
    if (type.rfind(kEventTypePrefix, 0) == 0) type.erase(0, kEventTypePrefix.size());
    if (type.empty() || type.find_first_of(". *>") != std::string::npos) {
      return makeError(ErrorCode::kInvalidArgument,
                       "bad event type '{}': expected a name such as component_scaled", type);
    }
    types.insert(type);
  }
  std::string subject = lattice::eventSubject(a.ctl.lattice.lattice, ">");
  CUMULUS_TRY(auto client, CtlClient::connect(a.ctl));
  CUMULUS_TRY(auto stream, client->subscribeEvents({subject}));
  std::string filter;
  for (const auto& t : types) filter += fmt::format("{}{}", filter.empty() ? " (only " : ", ", t);
  fmt::print(stderr, "watching {}{} (Ctrl-C stops)\n", subject, filter.empty() ? "" : filter + ")");
  uint64_t seen = 0;
  while (a.count == 0 || seen < a.count) {
    timespec now{0, 0};
    if (sigtimedwait(&stop_set, nullptr, &now) > 0) break;
    auto event = stream->next(std::chrono::milliseconds(200));
    if (!event || (!types.empty() && !types.contains(event->shortType()))) continue;
    ++seen;
    if (a.ctl.json()) {
      printJson(event->event);
      continue;
    }
    std::string source = field(event->event, "source");
    fmt::print("{}  {:<24}  {}  {}\n", field(event->event, "time"), event->shortType(),
               source.empty() ? "-" : source, event->data().dump());
    std::fflush(stdout);
  }
  return {};
}

}  // namespace

void addEventsCommand(CLI::App& app, int& status) {
  auto a = std::make_shared<EventsArgs>();
  auto* events = app.add_subcommand("events", "watch lattice events (Ctrl-C stops)");
  events->add_option("--type", a->types, "only this event type, e.g. component_scaled (repeatable)")
      ->allow_extra_args(false);
  events->add_option("--count", a->count,
                     "exit after this many events (default: run until stopped)");
  addCtlOptions(events, a->ctl);
  events->callback([a, &status] { status = finish(a->ctl, watchEvents(*a)); });
}

}  // namespace cumulus::cli
