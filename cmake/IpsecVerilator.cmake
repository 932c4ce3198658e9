# Verilator and Yosys helpers for the RTL under hw/.
#
#   ipsec_rtl_test(<name> TOP <module> SOURCES <sv files> TEST_SOURCES <cc files>
#                  [PARAMS <name=value>...] [VARIANTS <suffix:name=value,name=value>...]
#                  [VERILATOR_ARGS ...] [DEPS ...])
#     Builds a GoogleTest executable around one or more Verilated models of <module>. Without
#     VARIANTS there is one model, class V<module>. Each VARIANTS entry adds a model class
#     V<module>_<suffix> elaborated with the given parameter overrides (e.g. "l4:Lanes=4"), so one
#     test sweeps every legal parameter set.
#   ipsec_rtl_models(<lib> TOP <module> SOURCES <sv files> [PARAMS ...] [VARIANTS ...]
#                    [VERILATOR_ARGS ...])
#     A static library holding the Verilated models (same naming as ipsec_rtl_test), for when
#     several programs (a test and a bench) drive the same models: each is Verilated once.
#     ipsec_rtl_test(<name> MODELS <lib> TEST_SOURCES ...) then links it instead of Verilating.
#   ipsec_rtl_lint(<name> TOP <module> SOURCES <sv files> [VLT <waiver file>] [PARAMS ...])
#     A ctest test running `verilator --lint-only -Wall` (waivers in hw/ip/<ip>/lint/<ip>.vlt).
#   ipsec_rtl_synth(<name> TOP <module> SOURCES <sv files> [PARAMS ...] [QUICK])
#     A target synth_<name> that runs Yosys synth_xilinx (UltraScale+, abc9) and the LUT-level
#     analysis, writing build/synth/<name>.txt. Each also gets a quick ctest `yosys_read_<name>`
#     (parse + elaborate), so CI keeps the sources inside the Yosys 0.23 subset; QUICK ones
#     additionally run the whole synthesis as a ctest (label synth): keep those to small cores.
find_package(verilator 5.0 HINTS $ENV{VERILATOR_ROOT} /usr/share/verilator)
find_program(YOSYS_EXECUTABLE yosys)

# Verilated C++ is big and machine-written: optimise it, keep debug info small, no project warnings.
set(IPSEC_VERILATOR_COMMON_ARGS -Wall --assert -O3 --x-assign fast --x-initial fast
  -Wno-fatal --error-limit 50)

# Verilates <module> into <target> (one model, or one per VARIANTS entry).
function(_ipsec_verilate_into target)
  cmake_parse_arguments(A "" "TOP" "SOURCES;PARAMS;VARIANTS;VERILATOR_ARGS" ${ARGN})
  set(param_args)
  foreach(p ${A_PARAMS})
    list(APPEND param_args -G${p})
  endforeach()
  if(NOT A_VARIANTS)
    verilate(${target} SOURCES ${A_SOURCES} TOP_MODULE ${A_TOP} PREFIX V${A_TOP}
      VERILATOR_ARGS ${IPSEC_VERILATOR_COMMON_ARGS} ${param_args} ${A_VERILATOR_ARGS})
  else()
    foreach(v ${A_VARIANTS})
      string(REPLACE ":" ";" parts "${v}")
      list(GET parts 0 suffix)
      list(GET parts 1 assigns)
      string(REPLACE "," ";" assigns "${assigns}")
      set(vargs ${param_args})
      foreach(a ${assigns})
        list(APPEND vargs -G${a})
      endforeach()
      verilate(${target} SOURCES ${A_SOURCES} TOP_MODULE ${A_TOP} PREFIX V${A_TOP}_${suffix}
        VERILATOR_ARGS ${IPSEC_VERILATOR_COMMON_ARGS} ${vargs} ${A_VERILATOR_ARGS})
    endforeach()
  endif()
endfunction()

function(ipsec_rtl_models lib)
  cmake_parse_arguments(A "" "TOP" "SOURCES;PARAMS;VARIANTS;VERILATOR_ARGS" ${ARGN})
  add_library(${lib} STATIC)
  _ipsec_verilate_into(${lib} TOP ${A_TOP} SOURCES ${A_SOURCES} PARAMS ${A_PARAMS}
    VARIANTS ${A_VARIANTS} VERILATOR_ARGS ${A_VERILATOR_ARGS})
  target_compile_options(${lib} PRIVATE -g0)
endfunction()

function(ipsec_rtl_test name)
  cmake_parse_arguments(A "" "TOP;MODELS" "SOURCES;TEST_SOURCES;PARAMS;VARIANTS;VERILATOR_ARGS;DEPS" ${ARGN})
  add_executable(${name} ${A_TEST_SOURCES})
  if(A_MODELS)
    target_link_libraries(${name} PRIVATE ${A_MODELS})
  else()
    _ipsec_verilate_into(${name} TOP ${A_TOP} SOURCES ${A_SOURCES} PARAMS ${A_PARAMS}
      VARIANTS ${A_VARIANTS} VERILATOR_ARGS ${A_VERILATOR_ARGS})
  endif()
  target_compile_options(${name} PRIVATE -g0 -Wno-unused-variable)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${A_DEPS} OpenSSL::Crypto GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 120 NO_PRETTY_VALUES PROPERTIES LABELS rtl)
endfunction()

function(ipsec_rtl_lint name)
  cmake_parse_arguments(A "" "TOP;VLT" "SOURCES;PARAMS" ${ARGN})
  set(args --lint-only -Wall --top-module ${A_TOP})
  foreach(p ${A_PARAMS})
    list(APPEND args -G${p})
  endforeach()
  if(A_VLT)
    list(APPEND args ${A_VLT})
  endif()
  add_test(NAME lint_${name} COMMAND ${VERILATOR_BIN} ${args} ${A_SOURCES})
  set_tests_properties(lint_${name} PROPERTIES LABELS lint)
endfunction()

function(ipsec_rtl_synth name)
  cmake_parse_arguments(A "QUICK" "TOP" "SOURCES;PARAMS" ${ARGN})
  if(NOT YOSYS_EXECUTABLE)
    return()
  endif()
  set(out ${PROJECT_BINARY_DIR}/synth/${name}.txt)
  # synth.sh takes the parameter overrides as one space-separated argument, "-" for none.
  list(JOIN A_PARAMS " " param_arg)
  if(param_arg STREQUAL "")
    set(param_arg "-")
  endif()
  set(cmd ${PROJECT_SOURCE_DIR}/scripts/synth.sh ${A_TOP} ${out} "${param_arg}" ${A_SOURCES})
  add_custom_target(synth_${name} COMMAND ${cmd} USES_TERMINAL VERBATIM)
  if(NOT TARGET synth)
    add_custom_target(synth)
  endif()
  add_dependencies(synth synth_${name})
  if(A_QUICK)
    add_test(NAME synth_${name} COMMAND ${cmd})
    set_tests_properties(synth_${name} PROPERTIES LABELS synth TIMEOUT 900)
  endif()
  # Every synthesis target also gets a seconds-long ctest: Yosys 0.23 reads and elaborates the
  # sources with these parameters, so nothing outside its SystemVerilog subset can creep in.
  set(hier "hierarchy -check -top ${A_TOP}")
  foreach(p ${A_PARAMS})
    string(REPLACE "=" " " pv "${p}")
    string(APPEND hier " -chparam ${pv}")
  endforeach()
  list(JOIN A_SOURCES " " srcs)
  add_test(NAME yosys_read_${name}
    COMMAND ${YOSYS_EXECUTABLE} -q -p "read_verilog -sv ${srcs}; ${hier}")
  set_tests_properties(yosys_read_${name} PROPERTIES LABELS synth TIMEOUT 300)
endfunction()
