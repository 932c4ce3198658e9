# Project-wide warning set. IPSEC_WERROR (on in CI via `make test`) turns them into errors.
function(ipsec_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion -Wnon-virtual-dtor -Wimplicit-fallthrough)
  if(IPSEC_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
