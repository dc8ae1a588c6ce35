// ComponentManager internals shared by components.cpp and component_start.cpp.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "host/components.h"
#include "lattice/claims.h"

namespace cumulus::host {

// max_instances as a counting semaphore; u32::MAX means unbounded.
class Permits {
 public:
  explicit Permits(uint32_t max) : max_(max) {}
  bool acquire(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return used_ < max_; }) && (++used_, true);
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      --used_;
    }
    cv_.notify_one();
  }
  void setMax(uint32_t max) {
    {
      std::lock_guard lock(mu_);
      max_ = max;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint32_t max_;
  uint32_t used_ = 0;
};

struct PermitGuard {
  Permits& p;
  ~PermitGuard() { p.release(); }
};

struct ComponentManager::Running {
  std::string id;
  std::string image_ref;
  std::map<std::string, std::string> annotations;  // GUARDED_BY(manager mu_)
  std::vector<std::string> config;
  uint64_t max_memory = 0;
  std::chrono::milliseconds max_execution{0};
  std::optional<lattice::ComponentClaims> claims;  // when the component is signed
  std::atomic<uint32_t> max_instances{0};
  Permits permits{0};
  std::mutex override_mu;
  std::map<std::string, std::string> link_overrides;  // "ns:pkg/iface" -> link name
  // Destroyed in reverse: the service and plan before the linker they use.
  std::unique_ptr<component::Linker> linker;
  std::shared_ptr<wasi::http::HttpTypes> http_types;
  std::shared_ptr<const component::ComponentPlan> plan;
  std::shared_ptr<wasi::http::ComponentService> http;
};

}  // namespace cumulus::host
