// The host's side of the control interface (PROTOCOL.md §1): subscribes the per-host ctl
// subjects, decodes requests, calls a CtlHandler and replies with CtlResponse JSON. Malformed
// bodies and unknown subjects get {"success":false,"message":…}; the server never dies on input.
//
// Host operations (ping, inventory, stop) are decoded here; all others go to
// CtlHandler::operation. Subscriptions and queue groups follow PROTOCOL.md §1.2 exactly.
//
// Thread-safety: handler methods are called on libnats delivery threads, possibly concurrently
// for different subscriptions; the handler must synchronise its own state.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "lattice/ctl.h"
#include "lattice/nats.h"

namespace cumulus::host {

struct StopHostRequest {
  std::optional<std::chrono::milliseconds> timeout;
};

class CtlHandler {
 public:
  virtual ~CtlHandler() = default;
  virtual lattice::HostInfo hostInfo() = 0;
  virtual lattice::HostInventory inventory() = 0;
  // Called after the ack was sent; must not block (the host stops asynchronously).
  virtual void stopHost(const StopHostRequest& request) = 0;
  // Every other operation (components, providers, links, config, labels, claims, registry,
  // auctions): the reply body, or nullopt to send no reply (an auction this host declines).
  virtual std::optional<nlohmann::json> operation(const lattice::CtlOperation& op,
                                                  const std::string& body) {
    return lattice::ctlError("unsupported subject");
  }
};

class CtlServer {
 public:
  // `conn` and `handler` are borrowed and must outlive the server.
  CtlServer(lattice::NatsConnection& conn, std::string prefix, std::string lattice,
            std::string host_id, CtlHandler& handler);
  ~CtlServer() { stop(); }
  Expected<void> start();
  // Unsubscribes; waits until running handlers returned (unless called from one).
  void stop();
  // Decodes one request and returns the reply body (exposed for unit tests without NATS).
  // nullopt: send no reply.
  std::optional<nlohmann::json> dispatch(const std::string& subject, const std::string& body,
                                         bool* stop_requested);

 private:
  void onMessage(const lattice::Message& msg);
  lattice::NatsConnection& conn_;
  std::string prefix_;
  std::string lattice_;
  std::string host_id_;
  CtlHandler& handler_;
  std::vector<std::unique_ptr<lattice::Subscription>> subs_;
};

}  // namespace cumulus::host
