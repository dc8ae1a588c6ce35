// `cumulus scale component HOST_ID REF COMPONENT_ID [-c N] [-a k=v]… [--config NAME]…
// [--skip-wait] [--wait-timeout-ms MS]`: ctl component.scale.{HOST_ID} (PROTOCOL.md §1.4) with
// the instance limit in the wire key `count` (0 stops the component). The host only
// acknowledges; unless --skip-wait the command waits for that host's component_scaled or
// component_scale_failed event and exits 1 on the latter.
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ctl_client.h"
#include "cli/ctl_ops.h"

namespace cumulus::cli {

void addScaleCommand(CLI::App& app, int& status) {
  struct Args {
    CtlOptions ctl;
    ScaleArgs scale;
    std::vector<std::string> annotations;  // key=value
  };
  auto a = std::make_shared<Args>();
  auto* scale = app.add_subcommand("scale", "change how many instances of a workload a host runs");
  scale->require_subcommand(1);
  auto* component = scale->add_subcommand("component", "scale a component on one host");
  component->add_option("host_id", a->scale.host_id, "the host's id (N…; cumulus get hosts)")
      ->required();
  component->add_option("ref", a->scale.component_ref, "component reference (OCI ref or file path)")
      ->required();
  component->add_option("component_id", a->scale.component_id, "the component's id")->required();
  component->add_option("-c,--max-instances", a->scale.count,
                        "max concurrent instances; 0 stops it (default 4294967295 = unbounded)");
  component->add_option("-a,--annotations", a->annotations, "annotation key=value (repeatable)")
      ->allow_extra_args(false);
  component->add_option("--config", a->scale.config, "named config for the component (repeatable)")
      ->allow_extra_args(false);
  component->add_flag("--skip-wait", a->scale.skip_wait,
                      "return after the host's acknowledgement, without waiting for the outcome");
  component->add_option("--wait-timeout-ms", a->scale.wait_timeout_ms,
                        "how long to wait for the component_scaled event (default 10000)");
  addCtlOptions(component, a->ctl);
  component->callback([a, &status] {
    status = finish(a->ctl, [&a]() -> Expected<void> {
      CUMULUS_TRY(a->scale.annotations, parseKeyValues(a->annotations, "annotation"));
      CUMULUS_TRY(auto client, CtlClient::connect(a->ctl));
      CUMULUS_TRY(auto result, scaleComponent(*client, a->scale));
      printScaled(a->ctl, result);
      return {};
    }());
  });
}

}  // namespace cumulus::cli
