// Link definitions and component specifications; see link.h.
#include "lattice/link.h"

#include <algorithm>
#include <optional>

namespace cumulus::lattice {
namespace {

Expected<std::string> stringField(const nlohmann::json& j, const char* key, bool required,
                                  std::string fallback = {}) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) return makeError(ErrorCode::kInvalidArgument, "link is missing `{}`", key);
    return fallback;
  }
  if (!j[key].is_string()) {
    return makeError(ErrorCode::kInvalidArgument, "link field `{}` must be a string", key);
  }
  std::string s = j[key].get<std::string>();
  if (required && s.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "link field `{}` must not be empty", key);
  }
  return s;
}

Expected<std::vector<std::string>> stringList(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  if (!j[key].is_array()) {
    return makeError(ErrorCode::kInvalidArgument, "link field `{}` must be a list of strings", key);
  }
  for (const auto& e : j[key]) {
    if (!e.is_string()) {
      return makeError(ErrorCode::kInvalidArgument, "link field `{}` must be a list of strings",
                       key);
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

bool overlaps(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& x) {
    return std::find(b.begin(), b.end(), x) != b.end();
  });
}

}  // namespace

std::vector<std::string> Link::qualifiedInterfaces() const {
  std::vector<std::string> out;
  for (const auto& i : interfaces) out.push_back(fmt::format("{}:{}/{}", wit_namespace, wit_package, i));
  return out;
}

nlohmann::json toJson(const Link& link) {
  return {{"source_id", link.source_id},         {"target", link.target},
          {"name", link.name},                   {"wit_namespace", link.wit_namespace},
          {"wit_package", link.wit_package},     {"interfaces", link.interfaces},
          {"source_config", link.source_config}, {"target_config", link.target_config}};
}

Expected<Link> linkFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return makeError(ErrorCode::kInvalidArgument, "a link must be a JSON object");
  Link link;
  CUMULUS_TRY(link.source_id, stringField(j, "source_id", true));
  CUMULUS_TRY(link.target, stringField(j, "target", true));
  CUMULUS_TRY(link.name, stringField(j, "name", false, "default"));
  if (link.name.empty()) link.name = "default";
  CUMULUS_TRY(link.wit_namespace, stringField(j, "wit_namespace", true));
  CUMULUS_TRY(link.wit_package, stringField(j, "wit_package", true));
  CUMULUS_TRY(link.interfaces, stringList(j, "interfaces"));
  CUMULUS_TRY(link.source_config, stringList(j, "source_config"));
  CUMULUS_TRY(link.target_config, stringList(j, "target_config"));
  return link;
}

nlohmann::json toJson(const ComponentSpec& spec) {
  nlohmann::json links = nlohmann::json::array();
  for (const auto& l : spec.links) links.push_back(toJson(l));
  return {{"url", spec.url}, {"links", std::move(links)}};
}

Expected<ComponentSpec> componentSpecFromJson(const nlohmann::json& j) {
  if (!j.is_object()) {
    return makeError(ErrorCode::kInvalidArgument, "a component spec must be a JSON object");
  }
  ComponentSpec spec;
  if (j.contains("url") && j["url"].is_string()) spec.url = j["url"].get<std::string>();
  if (j.contains("links") && !j["links"].is_null()) {
    if (!j["links"].is_array()) {
      return makeError(ErrorCode::kInvalidArgument, "component spec `links` must be a list");
    }
    for (const auto& l : j["links"]) {
      CUMULUS_TRY(auto link, linkFromJson(l));
      spec.links.push_back(std::move(link));
    }
  }
  return spec;
}

Expected<void> putLink(ComponentSpec& spec, Link link) {
  for (const auto& l : spec.links) {
    if (l.wit_namespace == link.wit_namespace && l.wit_package == link.wit_package &&
        l.name == link.name && l.target != link.target && overlaps(l.interfaces, link.interfaces)) {
      return makeError(ErrorCode::kInvalidArgument,
                       "link already exists with different target, consider deleting the "
                       "existing link or using a different link name");
    }
  }
  for (auto& l : spec.links) {
    if (l.target == link.target && l.wit_namespace == link.wit_namespace &&
        l.wit_package == link.wit_package && l.name == link.name) {
      l = std::move(link);
      return {};
    }
  }
  spec.links.push_back(std::move(link));
  return {};
}

std::optional<Link> deleteLink(ComponentSpec& spec, std::string_view wit_namespace,
                               std::string_view wit_package, std::string_view name) {
  for (auto it = spec.links.begin(); it != spec.links.end(); ++it) {
    if (it->wit_namespace == wit_namespace && it->wit_package == wit_package && it->name == name) {
      Link removed = std::move(*it);
      spec.links.erase(it);
      return removed;
    }
  }
  return std::nullopt;
}

}  // namespace cumulus::lattice
