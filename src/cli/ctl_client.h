// What every lattice subcommand (`get`, `link`, `config`, `label`, `scale`, `start`, `stop`,
// `update`, `events`) shares, so each command file is only its flags and its output:
//   * CtlOptions: the connection flags of lattice_common.h plus `-o/--output text|json` and
//     `-t/--timeout-ms` (default 2000, the wasmCloud control-interface client's default);
//   * CtlClient: one NATS connection to the lattice, ctl requests whose CtlResponse envelope
//     (PROTOCOL.md §1.3) is checked, scatter-gather (ping, auctions), event subscriptions;
//   * EventStream: lattice events (PROTOCOL.md §2) queued until a command waits for them;
//   * requestAndWait: "send an acknowledged command, then wait for the event that says how it
//     ended" (scale, provider start/stop), subscribing before sending so no event is missed;
//   * output helpers: tables, key=value parsing, and `finish`, which turns an error into a
//     message on stderr (plus `{"success":false,"error":…}` on stdout with -o json) and exit 1.
//
// Error policy: everything returns Expected; messages name what failed and what to do next.
// Thread-safety: a CtlClient is used from the command's thread only; an EventStream's queue is
// filled from libnats delivery threads and drained by that thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/lattice_common.h"
#include "lattice/nats.h"

namespace cumulus::cli {

struct CtlOptions {
  LatticeOptions lattice;
  std::string output = "text";
  uint64_t timeout_ms = 2000;

  bool json() const { return output == "json"; }
  std::chrono::milliseconds timeout() const { return std::chrono::milliseconds(timeout_ms); }
};

// Adds --nats-url, -x/--lattice, --ctl-topic-prefix, -o/--output and -t/--timeout-ms to `cmd`.
void addCtlOptions(CLI::App* cmd, CtlOptions& o);

// One lattice event: the subject it came on and its CloudEvent (a JSON object; an event that
// is not JSON is kept as `{"raw": "<payload>"}`).
struct LatticeEvent {
  std::string subject;
  nlohmann::json event;

  // The event type without the `com.wasmcloud.lattice.` prefix (falls back to the subject's
  // last token).
  std::string shortType() const;
  const nlohmann::json& data() const;
};

// Events from a set of subscriptions, queued in arrival order. Borrows the CtlClient's
// connection: destroy it before the client.
class EventStream {
 public:
  // The next event, or nullopt when none arrived within `timeout`.
  std::optional<LatticeEvent> next(std::chrono::milliseconds timeout);

 private:
  friend class CtlClient;
  struct Queue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<LatticeEvent> events;  // GUARDED_BY(mu)
  };
  std::shared_ptr<Queue> queue_ = std::make_shared<Queue>();
  std::vector<std::unique_ptr<lattice::Subscription>> subs_;
};

class CtlClient {
 public:
  // Connects to the options' NATS server; fails quickly with "is nats-server running?" advice.
  static Expected<std::unique_ptr<CtlClient>> connect(const CtlOptions& options);

  const CtlOptions& options() const { return options_; }
  lattice::NatsConnection& nats() { return *conn_; }

  // `{prefix}.v1.{lattice}.{noun}.{verb}[.{name}]`
  std::string subject(std::string_view noun, std::string_view verb,
                      std::string_view name = {}) const;
  // `wasmbus.evt.{lattice}.{type}`
  std::string eventSubject(std::string_view type) const;

  // Sends `body` (null: an empty payload) and returns the reply's CtlResponse envelope once
  // it says `success:true`. Errors: no reply within the timeout or nobody listening (the
  // message ends with `hint`, which tells the user what to check), a malformed reply, or
  // `success:false` (the host's message).
  Expected<nlohmann::json> request(const std::string& subject, const nlohmann::json& body,
                                   std::string_view hint);

  // Scatter-gather: every reply within `window` (or the first `max_replies`), parsed as JSON.
  // Replies that are not JSON objects are dropped; nobody listening is an empty list.
  Expected<std::vector<nlohmann::json>> gather(const std::string& subject,
                                               const nlohmann::json& body,
                                               std::chrono::milliseconds window,
                                               size_t max_replies = 0);

  // Subscribes to each subject and flushes, so the server has the subscriptions before any
  // request sent afterwards on this connection.
  Expected<std::unique_ptr<EventStream>> subscribeEvents(const std::vector<std::string>& subjects);

  // The default hint for lattice-wide requests: is any host running in this lattice?
  std::string latticeHint() const;
  // The hint for requests addressed to one host: is the host id right?
  std::string hostHint(std::string_view host_id) const;

 private:
  CtlClient(CtlOptions options, std::unique_ptr<lattice::NatsConnection> conn)
      : options_(std::move(options)), conn_(std::move(conn)) {}
  CtlOptions options_;
  std::unique_ptr<lattice::NatsConnection> conn_;
};

// Which events end an acknowledged command, and how to recognise the one for this command:
// `data[id_key] == id` and `data.host_id == host_id`.
struct EventWait {
  std::vector<std::string> success_types;  // e.g. component_scaled
  std::vector<std::string> failure_types;  // e.g. component_scale_failed (its `error` is shown)
  std::string id_key;                      // component_id / provider_id
  std::string id;
  std::string host_id;
  std::chrono::milliseconds timeout{10000};
  std::string what;  // "component hello to scale", for messages
};

struct AckedResult {
  nlohmann::json ack;                   // the CtlResponse envelope
  std::optional<LatticeEvent> outcome;  // the matching success event (absent with no wait)
};

// Subscribes to the wait's events (when `wait` is set), sends the request, checks its
// CtlResponse and then waits for the matching success or failure event. A failure event or no
// event before the wait's timeout is an error.
Expected<AckedResult> requestAndWait(CtlClient& client, const std::string& subject,
                                     const nlohmann::json& body, std::string_view hint,
                                     const std::optional<EventWait>& wait);

// `key=value` arguments (the value may contain '='); `what` names them in errors ("label").
Expected<std::map<std::string, std::string>> parseKeyValues(const std::vector<std::string>& args,
                                                            std::string_view what);

// A JSON value as table text: strings unquoted, null empty, everything else compact JSON.
std::string jsonText(const nlohmann::json& j);
// `j[key]` as text ("" when absent or `j` is not an object).
std::string field(const nlohmann::json& j, std::string_view key);
// A map as `k=v,k2=v2`; a list as `a,b`.
std::string joinedText(const nlohmann::json& j);

// Prints left-aligned columns sized to their widest cell, two spaces apart.
void printTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows);
// Prints one compact JSON document and a newline to stdout.
void printJson(const nlohmann::json& j);

// The exit status for a finished command: 0 on success; otherwise prints "error: …" to stderr
// (and with -o json a `{"success":false,"error":…}` document to stdout) and returns 1.
int finish(const CtlOptions& options, const Expected<void>& result);

}  // namespace cumulus::cli
