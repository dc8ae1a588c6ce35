// wasi:filesystem (types, preopens). Being written; see addFilesystem.
#include "wasi/p2/ctx.h"

namespace cumulus::wasi {

void addFilesystem(component::Linker&, Types&) {}

}  // namespace cumulus::wasi
