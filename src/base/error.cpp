// Names for error codes (used in logs and JSON responses).
#include "base/error.h"

namespace cumulus {

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid-argument";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kLinkError:
      return "link-error";
    case ErrorCode::kTrap:
      return "trap";
    case ErrorCode::kResourceLimit:
      return "resource-limit";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

}  // namespace cumulus
