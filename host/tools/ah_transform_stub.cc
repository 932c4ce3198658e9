// Stand-in for ah_transform.cc in builds without the ipsec_ah library: protocol = ah is refused.
#include "host/tools/sa_transform.h"

namespace ipsec::tools {

bool AhSupported() { return false; }

StatusOr<std::unique_ptr<SaTransform>> MakeAhTransform(Operation, std::vector<sa::SaFile>, crypto::Provider) {
  return UnimplementedError("protocol = ah: this build has no AH support (ipsec_ah missing)");
}

}  // namespace ipsec::tools
