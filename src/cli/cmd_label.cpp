// `cumulus label HOST key=value…` and `cumulus label HOST --delete key…`: a host's labels
// (PROTOCOL.md §1.4 "Labels"), one ctl label.put / label.del request per key, in argument
// order; the first refusal stops. Labels steer auctions (`start … --constraint k=v`).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ctl_client.h"

namespace cumulus::cli {
namespace {

struct LabelArgs {
  CtlOptions ctl;
  std::string host_id;
  std::vector<std::string> labels;  // key=value, or keys with --delete
  bool remove = false;
};

Expected<void> runLabel(const LabelArgs& a) {
  // With --delete the arguments are keys; `key=value` is accepted too (the value is ignored),
  // so a put command line can be turned into a delete by adding the flag.
  std::vector<std::pair<std::string, std::string>> labels;
  for (const auto& l : a.labels) {
    size_t eq = l.find('=');
    if (a.remove) {
      labels.emplace_back(l.substr(0, eq), "");
    } else if (eq == std::string::npos || eq == 0) {
      return makeError(ErrorCode::kInvalidArgument,
                       "bad label '{}': expected key=value (or --delete key to remove one)", l);
    } else {
      labels.emplace_back(l.substr(0, eq), l.substr(eq + 1));
    }
    if (labels.back().first.empty()) {
      return makeError(ErrorCode::kInvalidArgument, "bad label '{}': the key is empty", l);
    }
  }
  CUMULUS_TRY(auto client, CtlClient::connect(a.ctl));
  auto subject = client->subject("label", a.remove ? "del" : "put", a.host_id);
  nlohmann::json done = nlohmann::json::array();
  for (const auto& [key, value] : labels) {
    nlohmann::json body = {{"key", key}};
    if (!a.remove) body["value"] = value;
    CUMULUS_TRY(auto reply, client->request(subject, body, client->hostHint(a.host_id)));
    done.push_back({{"key", key}, {"message", field(reply, "message")}});
    if (!a.ctl.json()) {
      if (a.remove) {
        fmt::print("host {}: label {} removed\n", a.host_id, key);
      } else {
        fmt::print("host {}: label {}={} set\n", a.host_id, key, value);
      }
    }
  }
  if (a.ctl.json()) printJson({{"success", true}, {"host_id", a.host_id}, {"labels", done}});
  return {};
}

}  // namespace

void addLabelCommand(CLI::App& app, int& status) {
  auto a = std::make_shared<LabelArgs>();
  auto* label = app.add_subcommand("label", "set (key=value) or delete (--delete key) host labels");
  label->add_option("host_id", a->host_id, "the host's id (N…; cumulus get hosts)")->required();
  label->add_option("labels", a->labels, "key=value to set, or keys with --delete")->required();
  label->add_flag("--delete", a->remove, "delete the given label keys instead of setting labels");
  addCtlOptions(label, a->ctl);
  label->callback([a, &status] { status = finish(a->ctl, runLabel(*a)); });
}

}  // namespace cumulus::cli
