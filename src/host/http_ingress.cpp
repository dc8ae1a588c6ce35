// The builtin http-server capability; see http_ingress.h.
#include "host/http_ingress.h"

#include "base/log.h"
#include "wasi/http/server.h"

namespace cumulus::host {
namespace {

constexpr std::string_view kDefaultAddress = "0.0.0.0:8000";

struct Route {
  std::string target;
  std::string match;  // path prefix (path mode) or host name (host mode); empty in address mode
};

Expected<std::pair<std::string, uint16_t>> parseAddress(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) {
    return makeError(ErrorCode::kInvalidArgument, "address '{}' must be HOST:PORT", address);
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    size_t used = 0;
    port = std::stoul(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1) throw std::invalid_argument("port");
  } catch (const std::exception&) {
    return makeError(ErrorCode::kInvalidArgument, "address '{}' has a bad port", address);
  }
  if (port > 65535) return makeError(ErrorCode::kInvalidArgument, "address '{}' has a bad port", address);
  return std::make_pair(host, static_cast<uint16_t>(port));
}

// True when `path` is `prefix` or lies below it ("/api" matches "/api" and "/api/x", not "/apix").
bool underPrefix(std::string_view path, std::string_view prefix) {
  size_t q = path.find('?');
  if (q != std::string_view::npos) path = path.substr(0, q);
  if (prefix.empty() || prefix == "/") return true;
  if (prefix.back() == '/') prefix.remove_suffix(1);
  return path.substr(0, prefix.size()) == prefix &&
         (path.size() == prefix.size() || path[prefix.size()] == '/');
}

std::string hostWithoutPort(const std::optional<std::string>& authority) {
  if (!authority) return "";
  std::string h = *authority;
  if (!h.empty() && h.front() == '[') return h.substr(0, h.find(']') + 1);
  return h.substr(0, h.find(':'));
}

}  // namespace

struct HttpIngress::Router : wasi::http::RequestHandler {
  enum class Mode { kAddress, kPath, kHost };
  ComponentManager& components;
  const RemoteHttp& remote;
  Mode mode;
  std::mutex mu;
  std::vector<Route> routes;  // GUARDED_BY(mu)

  Router(ComponentManager& c, const RemoteHttp& r, Mode m) : components(c), remote(r), mode(m) {}

  Expected<void> handle(const wasi::http::RequestHead& head,
                        std::shared_ptr<wasi::http::BodyReader> body,
                        wasi::http::ResponseSink& sink) override {
    std::string target;
    {
      std::lock_guard lock(mu);
      size_t best = 0;
      for (const auto& r : routes) {
        if (mode == Mode::kAddress) {
          target = r.target;
          break;
        }
        bool hit = mode == Mode::kPath ? underPrefix(head.target, r.match)
                                       : hostWithoutPort(head.authority) == r.match;
        if (hit && (target.empty() || r.match.size() > best)) {
          target = r.target;
          best = r.match.size();
        }
      }
    }
    if (target.empty()) return respond(sink, 404, "no route for this request\n");
    auto served = components.handleHttp(target, head, body, sink);
    if (!served.ok() && served.error().code() == ErrorCode::kNotFound && remote) {
      served = remote(target, head, body, sink);
    }
    if (!served.ok() && served.error().code() == ErrorCode::kNotFound) {
      return respond(sink, 503, fmt::format("component {} is not running in the lattice\n", target));
    }
    return served;
  }

  static Expected<void> respond(wasi::http::ResponseSink& sink, uint16_t status, std::string text) {
    wasi::http::FieldList headers = {{"content-type", "text/plain"},
                                     {"content-length", std::to_string(text.size())}};
    CUMULUS_TRY_VOID(sink.start(status, headers));
    sink.write(text);
    return sink.finish(nullptr);
  }
};

struct HttpIngress::Provider {
  std::string id;
  std::vector<std::string> config;
  std::map<std::string, std::string> annotations;
  struct Listener {
    std::shared_ptr<Router> router;
    std::unique_ptr<wasi::http::HttpServer> server;
  };
  std::map<std::string, Listener> listeners;  // by address
};

HttpIngress::HttpIngress(ComponentManager& components, LinkStore& links, ConfigStore& config,
                         RemoteHttp remote)
    : components_(components), remote_(std::move(remote)), links_(links), config_(config) {}

HttpIngress::~HttpIngress() {
  std::map<std::string, std::unique_ptr<Provider>> providers;
  {
    std::lock_guard lock(mu_);
    providers = std::move(providers_);
  }
  for (auto& [id, p] : providers) {
    for (auto& [addr, l] : p->listeners) l.server->stop(std::chrono::milliseconds(1000));
  }
}

Expected<void> HttpIngress::startProvider(const std::string& id,
                                          const std::vector<std::string>& config,
                                          const std::map<std::string, std::string>& annotations) {
  std::lock_guard lock(mu_);
  if (providers_.count(id)) {
    return makeError(ErrorCode::kInvalidArgument, "provider {} is already running on this host", id);
  }
  auto p = std::make_unique<Provider>();
  p->id = id;
  p->config = config;
  p->annotations = annotations;
  reconcile(*p);
  providers_[id] = std::move(p);
  return {};
}

bool HttpIngress::stopProvider(const std::string& id) {
  std::unique_ptr<Provider> p;
  {
    std::lock_guard lock(mu_);
    auto it = providers_.find(id);
    if (it == providers_.end()) return false;
    p = std::move(it->second);
    providers_.erase(it);
  }
  for (auto& [addr, l] : p->listeners) l.server->stop();
  return true;
}

bool HttpIngress::hasProvider(const std::string& id) const {
  std::lock_guard lock(mu_);
  return providers_.count(id) != 0;
}

std::vector<lattice::ProviderDescription> HttpIngress::describe() const {
  std::lock_guard lock(mu_);
  std::vector<lattice::ProviderDescription> out;
  for (const auto& [id, p] : providers_) {
    lattice::ProviderDescription d;
    d.id = id;
    d.image_ref = std::string(kBuiltinHttpServer);
    d.name = "http-server";
    d.annotations = p->annotations;
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<std::string> HttpIngress::listening(const std::string& id) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  auto it = providers_.find(id);
  if (it == providers_.end()) return out;
  for (const auto& [addr, l] : it->second->listeners) {
    auto parsed = parseAddress(addr);
    if (parsed.ok()) out.push_back(fmt::format("{}:{}", parsed->first, l.server->port()));
  }
  return out;
}

void HttpIngress::linksChanged(const std::string& source_id) {
  std::lock_guard lock(mu_);
  auto it = providers_.find(source_id);
  if (it != providers_.end()) reconcile(*it->second);
}

void HttpIngress::reconcile(Provider& p) {
  // Ask KV for configs our watch has not delivered yet: ctl config.put and link.put may have been
  // answered by another host a moment ago (a link applied with its config missing would listen
  // on the default address).
  auto pconfig = config_.merged(p.config, true);
  std::string mode_name = pconfig.count("routing_mode") ? pconfig["routing_mode"] : "address";
  Router::Mode mode = mode_name == "path"   ? Router::Mode::kPath
                      : mode_name == "host" ? Router::Mode::kHost
                                            : Router::Mode::kAddress;
  std::string shared_address = pconfig.count("address") ? pconfig["address"]
                               : pconfig.count("default_address") ? pconfig["default_address"]
                                                                  : std::string(kDefaultAddress);
  std::map<std::string, std::vector<Route>> wanted;
  for (const auto& link : links_.from(p.id)) {
    if (link.wit_namespace != "wasi" || link.wit_package != "http" ||
        std::find(link.interfaces.begin(), link.interfaces.end(), "incoming-handler") ==
            link.interfaces.end()) {
      continue;
    }
    auto lconfig = config_.merged(link.source_config, true);
    Route route{link.target, ""};
    std::string address = shared_address;
    if (mode == Router::Mode::kAddress) {
      if (lconfig.count("address")) address = lconfig["address"];
    } else {
      const char* key = mode == Router::Mode::kPath ? "path" : "host";
      if (!lconfig.count(key)) {
        log().warn("http-server {}: link to {} has no `{}` in its source config; ignored", p.id,
                   link.target, key);
        continue;
      }
      route.match = lconfig[key];
    }
    wanted[address].push_back(std::move(route));
  }
  for (auto it = p.listeners.begin(); it != p.listeners.end();) {
    if (wanted.count(it->first) && it->second.router->mode == mode) {
      ++it;
      continue;
    }
    log().info("http-server {}: stopping listener {}", p.id, it->first);
    it->second.server->stop();
    it = p.listeners.erase(it);
  }
  for (auto& [address, routes] : wanted) {
    if (mode == Router::Mode::kAddress && routes.size() > 1) {
      log().warn("http-server {}: {} links want address {}; serving {}", p.id, routes.size(),
                 address, routes.front().target);
    }
    auto it = p.listeners.find(address);
    if (it == p.listeners.end()) {
      auto parsed = parseAddress(address);
      if (!parsed.ok()) {
        log().warn("http-server {}: {}", p.id, parsed.error().message());
        continue;
      }
      wasi::http::ServerConfig sc;
      sc.host = parsed->first;
      sc.port = parsed->second;
      auto router = std::make_shared<Router>(components_, remote_, mode);
      auto server = wasi::http::HttpServer::start(sc, router);
      if (!server.ok()) {
        log().warn("http-server {}: listening on {}: {}", p.id, address, server.error().message());
        continue;
      }
      log().info("http-server {}: listening on {}:{}", p.id, sc.host, (*server)->port());
      it = p.listeners.emplace(address, Provider::Listener{router, std::move(*server)}).first;
    }
    std::lock_guard lock(it->second.router->mu);
    it->second.router->routes = std::move(routes);
  }
}

}  // namespace cumulus::host
