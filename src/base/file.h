// Whole-file helpers. writeFileAtomic writes to a unique temporary name in the same directory and
// renames it into place, so concurrent readers see either nothing or the whole file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"

namespace cumulus {

Expected<std::vector<uint8_t>> readFile(const std::filesystem::path& path);
Expected<std::string> readTextFile(const std::filesystem::path& path);
Expected<void> writeFileAtomic(const std::filesystem::path& path, std::span<const uint8_t> data);

}  // namespace cumulus
