# Run by ctest for the install check (tests/install/CMakeLists.txt passes the -D values):
# installs the build in STRATA_BINARY_DIR into WORK_DIR/prefix, builds the consumer project
# against that prefix only, checks it found the installed package, and runs it.
cmake_minimum_required(VERSION 3.25)

foreach(var STRATA_BINARY_DIR STRATA_VERSION CONSUMER_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_install_check: -D${var}=... is required")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer-build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# step(<what> <command...>): runs a command, and on failure stops with its output and what broke.
function(step what)
  list(JOIN ARGN " " command_text)
  message(STATUS "install check: ${what}\n   ${command_text}")
  execute_process(COMMAND ${ARGN}
                  RESULT_VARIABLE result
                  OUTPUT_VARIABLE output
                  ERROR_VARIABLE output
                  TIMEOUT 500)
  if(NOT result STREQUAL "0")
    message(NOTICE "${output}")
    message(FATAL_ERROR "install check FAILED while trying to ${what} (${result}).\n"
                        "  command: ${command_text}")
  endif()
  set(step_output "${output}" PARENT_SCOPE)
endfunction()

set(config_args)
set(consumer_config_args)
if(NOT CONFIG STREQUAL "")
  set(config_args --config "${CONFIG}")
  set(consumer_config_args "-DCMAKE_BUILD_TYPE=${CONFIG}")
endif()
string(STRIP "${CXX_FLAGS}" CXX_FLAGS)
string(STRIP "${LINKER_FLAGS}" LINKER_FLAGS)

step("install the build into a scratch prefix"
     "${CMAKE_COMMAND}" --install "${STRATA_BINARY_DIR}" --prefix "${prefix}" ${config_args})

# Only the scratch prefix may supply strata: no package registry, no system-wide copy.
step("configure the consumer project with find_package(strata)"
     "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}" -G "${GENERATOR}"
     "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
     "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
     "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}"
     ${consumer_config_args}
     "-DCMAKE_PREFIX_PATH=${prefix}"
     -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
     -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
     "-DSTRATA_EXPECTED_VERSION=${STRATA_VERSION}")

file(STRINGS "${consumer_build}/CMakeCache.txt" strata_dir REGEX "^strata_DIR:")
string(REGEX REPLACE "^strata_DIR:[A-Z]+=" "" strata_dir "${strata_dir}")
cmake_path(IS_PREFIX prefix "${strata_dir}" NORMALIZE found_in_prefix)
if(NOT found_in_prefix)
  message(FATAL_ERROR "install check FAILED: the consumer found strata at '${strata_dir}', "
                      "not in the scratch prefix '${prefix}'")
endif()

step("build the consumer, linking strata::strata"
     "${CMAKE_COMMAND}" --build "${consumer_build}" ${config_args})

set(app "${consumer_build}/app")
if(NOT EXISTS "${app}" AND NOT CONFIG STREQUAL "")
  set(app "${consumer_build}/${CONFIG}/app")  # multi-config generators
endif()
step("run the consumer" "${app}")
message(STATUS "install check: ${step_output}")
if(NOT step_output MATCHES "strata consumer ok")
  message(FATAL_ERROR "install check FAILED: the consumer ran but did not report success")
endif()
