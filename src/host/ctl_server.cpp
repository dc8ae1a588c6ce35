// Host ctl server; see ctl_server.h.
#include "host/ctl_server.h"

#include "base/log.h"

namespace cumulus::host {

CtlServer::CtlServer(lattice::NatsConnection& conn, std::string prefix, std::string lattice,
                     std::string host_id, CtlHandler& handler)
    : conn_(conn),
      prefix_(std::move(prefix)),
      lattice_(std::move(lattice)),
      host_id_(std::move(host_id)),
      handler_(handler) {}

Expected<void> CtlServer::start() {
  std::string base = lattice::ctlBase(prefix_, lattice_);
  // PROTOCOL.md §1.2: plain subscriptions, every host answers. The per-host families are
  // subscribed now so that operations not implemented yet get an error reply, not a timeout.
  // (subject, queue group): lattice-wide state (links, claims, config) is answered by one host
  // of the queue group; per-host subjects, pings, auctions and registry pushes by every host.
  std::vector<std::pair<std::string, std::string>> subjects = {
      {base + ".registry.put", ""},
      {base + ".host.ping", ""},
      {base + ".link.*", base + ".link"},
      {base + ".claims.get", base + ".claims"},
      {fmt::format("{}.component.*.{}", base, host_id_), ""},
      {fmt::format("{}.provider.*.{}", base, host_id_), ""},
      {fmt::format("{}.label.*.{}", base, host_id_), ""},
      {fmt::format("{}.host.*.{}", base, host_id_), ""},
      {base + ".config.>", base + ".config"},
      {base + ".component.auction", ""},
      {base + ".provider.auction", ""},
  };
  for (const auto& [subject, queue] : subjects) {
    CUMULUS_TRY(auto sub, conn_.subscribe(
                              subject, [this](const lattice::Message& m) { onMessage(m); }, queue));
    subs_.push_back(std::move(sub));
  }
  return conn_.flush(std::chrono::seconds(5));
}

void CtlServer::stop() { subs_.clear(); }

void CtlServer::onMessage(const lattice::Message& msg) {
  bool stop_requested = false;
  auto reply = dispatch(msg.subject, msg.data, &stop_requested);
  if (reply && !msg.reply.empty()) {
    auto sent = conn_.publish(msg.reply, reply->dump());
    if (!sent.ok()) log().warn("ctl reply to {}: {}", msg.subject, sent.error().message());
  }
  if (stop_requested) {
    (void)conn_.flush(std::chrono::seconds(2));
    StopHostRequest request;
    if (!msg.data.empty()) {
      auto body = nlohmann::json::parse(msg.data, nullptr, false);
      if (body.is_object() && body.contains("timeout") && body["timeout"].is_number_unsigned()) {
        request.timeout = std::chrono::milliseconds(body["timeout"].get<uint64_t>());
      }
    }
    handler_.stopHost(request);
  }
}

std::optional<nlohmann::json> CtlServer::dispatch(const std::string& subject,
                                                  const std::string& body, bool* stop_requested) {
  *stop_requested = false;
  auto op = lattice::parseCtlSubject(subject, prefix_);
  if (!op) return lattice::ctlError("unsupported subject");
  log().debug("ctl {} ({} bytes)", subject, body.size());
  if (op->noun == "host" && op->verb == "ping" && op->name.empty()) {
    return lattice::ctlOk(lattice::toJson(handler_.hostInfo()));
  }
  if (op->noun == "host" && op->verb == "get" && op->name == host_id_) {
    return lattice::ctlOk(lattice::toJson(handler_.inventory()));
  }
  if (op->noun == "host" && op->verb == "stop" && op->name == host_id_) {
    // An empty body is accepted; otherwise {"host_id"?: string, "timeout"?: u64 ms}.
    if (!body.empty()) {
      auto j = nlohmann::json::parse(body, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        return lattice::ctlError("failed to deserialize stop host request: expected a JSON object");
      }
      if (j.contains("host_id") && !j["host_id"].is_null()) {
        if (!j["host_id"].is_string()) {
          return lattice::ctlError("failed to deserialize stop host request: host_id must be a string");
        }
        if (j["host_id"].get<std::string>() != host_id_) {
          return lattice::ctlError(fmt::format("invalid host_id [{}] in stop host request for host {}",
                                               j["host_id"].get<std::string>(), host_id_));
        }
      }
      if (j.contains("timeout") && !j["timeout"].is_null() && !j["timeout"].is_number_unsigned()) {
        return lattice::ctlError(
            "failed to deserialize stop host request: timeout must be a non-negative integer (ms)");
      }
    }
    *stop_requested = true;
    return lattice::ctlAck("successfully handled stop host");
  }
  if (op->noun == "host") return lattice::ctlError("unsupported subject");
  try {
    return handler_.operation(*op, body);
  } catch (const std::exception& e) {
    // JSON type errors and the like: the requester gets the reason, the host keeps running.
    return lattice::ctlError(fmt::format("failed to handle {}.{}: {}", op->noun, op->verb, e.what()));
  }
}

}  // namespace cumulus::host
