// wasi:sockets. Being written; see addSockets.
#include "wasi/p2/ctx.h"

namespace cumulus::wasi {

void addSockets(component::Linker&, Types&) {}

}  // namespace cumulus::wasi
