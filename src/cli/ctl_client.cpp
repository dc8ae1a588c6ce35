// The lattice subcommands' shared client, event waiting and output helpers; see ctl_client.h.
#include "cli/ctl_client.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "lattice/ctl.h"

namespace cumulus::cli {
namespace {

constexpr std::string_view kEventTypePrefix = "com.wasmcloud.lattice.";

std::string payload(const nlohmann::json& body) { return body.is_null() ? "" : body.dump(); }

bool contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

}  // namespace

void addCtlOptions(CLI::App* cmd, CtlOptions& o) {
  addLatticeOptions(cmd, o.lattice);
  cmd->add_option("-o,--output", o.output, "output format: text (tables, default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("-t,--timeout-ms", o.timeout_ms,
                  "how long to wait for control replies, in ms (default 2000)");
}

std::string LatticeEvent::shortType() const {
  if (event.is_object() && event.contains("type") && event["type"].is_string()) {
    std::string type = event["type"].get<std::string>();
    if (type.rfind(kEventTypePrefix, 0) == 0) type.erase(0, kEventTypePrefix.size());
    return type;
  }
  size_t dot = subject.rfind('.');
  return dot == std::string::npos ? subject : subject.substr(dot + 1);
}

const nlohmann::json& LatticeEvent::data() const {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  if (event.is_object() && event.contains("data")) return event["data"];
  return kEmpty;
}

std::optional<LatticeEvent> EventStream::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(queue_->mu);
  if (!queue_->cv.wait_for(lock, timeout, [this] { return !queue_->events.empty(); })) {
    return std::nullopt;
  }
  LatticeEvent e = std::move(queue_->events.front());
  queue_->events.pop_front();
  return e;
}

Expected<std::unique_ptr<CtlClient>> CtlClient::connect(const CtlOptions& options) {
  if (!lattice::isSubjectToken(options.lattice.lattice)) {
    return makeError(
        ErrorCode::kInvalidArgument,
        "lattice name '{}' must be one NATS subject token (no '.', '*', '>' or spaces)",
        options.lattice.lattice);
  }
  lattice::NatsOptions opts;
  opts.url = options.lattice.nats_url;
  opts.name = "cumulus-cli";
  opts.max_reconnect = 0;
  opts.connect_timeout = std::min(options.timeout(), std::chrono::milliseconds(2000));
  CUMULUS_TRY(auto conn, lattice::NatsConnection::connect(opts));
  return std::unique_ptr<CtlClient>(new CtlClient(options, std::move(conn)));
}

std::string CtlClient::subject(std::string_view noun, std::string_view verb,
                               std::string_view name) const {
  return lattice::ctlSubject(options_.lattice.ctl_prefix, options_.lattice.lattice, noun, verb,
                             name);
}

std::string CtlClient::eventSubject(std::string_view type) const {
  return lattice::eventSubject(options_.lattice.lattice, type);
}

std::string CtlClient::latticeHint() const {
  return fmt::format(
      "is a host running in lattice '{}' at {}? (cumulus get hosts; "
      "--lattice and --nats-url pick another lattice)",
      options_.lattice.lattice, options_.lattice.nats_url);
}

std::string CtlClient::hostHint(std::string_view host_id) const {
  return fmt::format("is the host id {} right? (cumulus get hosts lists the hosts of lattice '{}')",
                     host_id, options_.lattice.lattice);
}

Expected<nlohmann::json> CtlClient::request(const std::string& subject, const nlohmann::json& body,
                                            std::string_view hint) {
  auto reply = conn_->request(subject, payload(body), options_.timeout());
  if (!reply.ok()) {
    switch (reply.error().code()) {
      case ErrorCode::kResourceLimit:
        return makeError(ErrorCode::kResourceLimit, "no host answered on {} within {} ms: {}",
                         subject, options_.timeout_ms, hint);
      case ErrorCode::kNotFound:
        return makeError(ErrorCode::kNotFound, "no host is listening on {}: {}", subject, hint);
      default:
        return std::move(reply).error();
    }
  }
  auto j = nlohmann::json::parse(reply->data, nullptr, false);
  if (!j.is_object() || !j.contains("success") || !j["success"].is_boolean()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "the reply on {} is not a control-interface response: {}", subject,
                     reply->data.substr(0, 200));
  }
  if (!j["success"].get<bool>()) {
    std::string message = field(j, "message");
    return makeError(ErrorCode::kInvalidArgument, "{} failed: {}", subject,
                     message.empty() ? "the host gave no reason (check its log)" : message);
  }
  return j;
}

Expected<std::vector<nlohmann::json>> CtlClient::gather(const std::string& subject,
                                                        const nlohmann::json& body,
                                                        std::chrono::milliseconds window,
                                                        size_t max_replies) {
  auto replies = conn_->scatterGather(subject, payload(body), window, max_replies);
  std::vector<nlohmann::json> out;
  // "No responders" is the server saying at once what the window would have: nobody answered.
  if (!replies.ok() && replies.error().code() == ErrorCode::kNotFound) return out;
  if (!replies.ok()) return std::move(replies).error();
  for (const auto& r : *replies) {
    auto j = nlohmann::json::parse(r.data, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

Expected<std::unique_ptr<EventStream>> CtlClient::subscribeEvents(
    const std::vector<std::string>& subjects) {
  auto stream = std::unique_ptr<EventStream>(new EventStream());
  for (const auto& s : subjects) {
    auto queue = stream->queue_;
    CUMULUS_TRY(auto sub, conn_->subscribe(s, [queue](const lattice::Message& m) {
      auto j = nlohmann::json::parse(m.data, nullptr, false);
      if (!j.is_object()) j = nlohmann::json{{"raw", m.data}};
      {
        std::lock_guard lock(queue->mu);
        queue->events.push_back(LatticeEvent{m.subject, std::move(j)});
      }
      queue->cv.notify_one();
    }));
    stream->subs_.push_back(std::move(sub));
  }
  CUMULUS_TRY_VOID(conn_->flush(options_.timeout()));
  return stream;
}

Expected<AckedResult> requestAndWait(CtlClient& client, const std::string& subject,
                                     const nlohmann::json& body, std::string_view hint,
                                     const std::optional<EventWait>& wait) {
  std::unique_ptr<EventStream> stream;
  if (wait) {
    std::vector<std::string> subjects;
    for (const auto& t : wait->success_types) subjects.push_back(client.eventSubject(t));
    for (const auto& t : wait->failure_types) subjects.push_back(client.eventSubject(t));
    CUMULUS_TRY(stream, client.subscribeEvents(subjects));
  }
  CUMULUS_TRY(auto ack, client.request(subject, body, hint));
  AckedResult result{std::move(ack), std::nullopt};
  if (!wait) return result;
  auto deadline = std::chrono::steady_clock::now() + wait->timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return makeError(ErrorCode::kResourceLimit,
                       "host {} acknowledged {} but sent no {} event within {} ms (raise "
                       "--wait-timeout-ms, pass --skip-wait, or check the host's log)",
                       wait->host_id, wait->what, wait->success_types.front(),
                       wait->timeout.count());
    }
    auto event = stream->next(left);
    if (!event) continue;
    const auto& data = event->data();
    std::string host =
        data.contains("host_id") ? field(data, "host_id") : field(event->event, "source");
    if (field(data, wait->id_key) != wait->id || host != wait->host_id) continue;
    std::string type = event->shortType();
    if (contains(wait->failure_types, type)) {
      std::string error = field(data, "error");
      return makeError(ErrorCode::kInvalidArgument, "{} on host {} failed ({}): {}", wait->what,
                       wait->host_id, type, error.empty() ? "no reason given" : error);
    }
    if (contains(wait->success_types, type)) {
      result.outcome = std::move(event);
      return result;
    }
  }
}

Expected<std::map<std::string, std::string>> parseKeyValues(const std::vector<std::string>& args,
                                                            std::string_view what) {
  std::map<std::string, std::string> out;
  for (const auto& a : args) {
    size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return makeError(ErrorCode::kInvalidArgument, "bad {} '{}': expected key=value", what, a);
    }
    out[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return out;
}

std::string jsonText(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump();
}

std::string field(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return "";
  auto it = j.find(std::string(key));
  return it == j.end() ? "" : jsonText(*it);
}

std::string joinedText(const nlohmann::json& j) {
  std::string out;
  if (j.is_object()) {
    for (const auto& [k, v] : j.items())
      out += fmt::format("{}{}={}", out.empty() ? "" : ",", k, jsonText(v));
  } else if (j.is_array()) {
    for (const auto& v : j) out += fmt::format("{}{}", out.empty() ? "" : ",", jsonText(v));
  } else {
    out = jsonText(j);
  }
  return out;
}

void printTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(headers.size());
  for (size_t c = 0; c < headers.size(); ++c) widths[c] = headers[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c)
      widths[c] = std::max(widths[c], row[c].size());
  }
  auto line = [&widths](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size() && c < widths.size(); ++c) {
      bool last = c + 1 == cells.size() || c + 1 == widths.size();
      out += last ? cells[c] : fmt::format("{:<{}}  ", cells[c], widths[c]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();  // an empty last cell
    fmt::print("{}\n", out);
  };
  line(headers);
  for (const auto& row : rows) line(row);
}

void printJson(const nlohmann::json& j) {
  fmt::print("{}\n", j.dump());
  std::fflush(stdout);
}

int finish(const CtlOptions& options, const Expected<void>& result) {
  std::fflush(stdout);
  if (result.ok()) return 0;
  fmt::print(stderr, "error: {}\n", result.error().message());
  if (options.json()) printJson({{"success", false}, {"error", result.error().message()}});
  return 1;
}

}  // namespace cumulus::cli
