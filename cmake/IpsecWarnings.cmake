# Project warning flags for a target; -Werror when IPSEC_WERROR is on (CI).
function(ipsec_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion -Wnon-virtual-dtor -Wimplicit-fallthrough)
  if(IPSEC_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
    # GCC 12-13 at -O3 report -Wrestrict inside libstdc++'s std::string (GCC PR 105651, a false
    # positive in inlined basic_string::_M_replace): keep the warning, do not fail a Release build.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
      target_compile_options(${target} PRIVATE -Wno-error=restrict)
    endif()
  endif()
endfunction()
