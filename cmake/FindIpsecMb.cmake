# Finds intel-ipsec-mb (Debian: libipsec-mb-dev), which ships no CMake or pkg-config file.
# Defines the imported target IpsecMb::IpsecMb.
find_path(IPSECMB_INCLUDE_DIR intel-ipsec-mb.h)
find_library(IPSECMB_LIBRARY NAMES IPSec_MB)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(IpsecMb DEFAULT_MSG IPSECMB_LIBRARY IPSECMB_INCLUDE_DIR)
if(IpsecMb_FOUND AND NOT TARGET IpsecMb::IpsecMb)
  add_library(IpsecMb::IpsecMb UNKNOWN IMPORTED)
  set_target_properties(IpsecMb::IpsecMb PROPERTIES
    IMPORTED_LOCATION ${IPSECMB_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${IPSECMB_INCLUDE_DIR})
endif()
