// Who a host is: its nkey (server key, "N…"), a friendly name (`adjective-noun-NNNN`) and its
// labels, including the built-in `hostcore.*` ones (PROTOCOL.md §7.1).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/error.h"
#include "lattice/nkeys.h"

namespace cumulus::host {

// `adjective-noun-NNNN`, random.
std::string makeFriendlyName();
// hostcore.arch, hostcore.os, hostcore.osfamily for this machine (Rust std::env::consts names).
std::map<std::string, std::string> builtinLabels();
// Parses `key=value`; the key must be non-empty and must not use the reserved `hostcore.` prefix.
Expected<std::pair<std::string, std::string>> parseLabel(std::string_view text);
// The host key from `--host-seed` (must be a server seed, "SN…"), or a fresh one when empty.
Expected<lattice::KeyPair> hostKey(std::string_view seed);

}  // namespace cumulus::host
