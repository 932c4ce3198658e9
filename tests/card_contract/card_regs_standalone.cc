// The generated header compiles on its own, first in its translation unit, with the project's
// warnings (-Werror in CI): it includes everything it uses and needs no other project header.
#include "ipsec_accel/card_regs.h"

namespace ipsec::card {

// Referenced by card_regs_test.cc so this file is linked in, not just compiled.
uint32_t StandaloneHeaderLayoutVersion() { return (kLayoutVersionMajor << 16) | kLayoutVersionMinor; }

}  // namespace ipsec::card
