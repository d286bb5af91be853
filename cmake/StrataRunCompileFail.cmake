# Run by ctest for one strata_compile_fail() case (cmake/StrataCompileFail.cmake) as
#   cmake -DSTRATA_CF_PARAMS=<build>/compile_fail/<name>.cmake -P StrataRunCompileFail.cmake
# Compiles the case with -fsyntax-only; exits 0 only if the compiler rejects it with output that
# matches the expected regex, and otherwise says which of the two ways the case went wrong.
cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED STRATA_CF_PARAMS OR NOT EXISTS "${STRATA_CF_PARAMS}")
  message(FATAL_ERROR "StrataRunCompileFail: pass -DSTRATA_CF_PARAMS=<file written by "
                      "strata_compile_fail()>; got '${STRATA_CF_PARAMS}'")
endif()
include("${STRATA_CF_PARAMS}")

set(command "${STRATA_CF_COMPILER}" ${STRATA_CF_FLAGS} "-I${STRATA_CF_INCLUDE_DIR}"
            "${STRATA_CF_SOURCE}")
list(JOIN command " " command_text)

execute_process(COMMAND ${command}
                RESULT_VARIABLE result
                OUTPUT_VARIABLE output
                ERROR_VARIABLE output
                TIMEOUT 600)

if(NOT result MATCHES "^[0-9]+$")
  message(FATAL_ERROR "[${STRATA_CF_NAME}] could not run the compiler (${result}):\n"
                      "  ${command_text}")
elseif(result EQUAL 0)
  message(NOTICE "${output}")
  message(FATAL_ERROR
    "[${STRATA_CF_NAME}] BUG: ${STRATA_CF_SOURCE} COMPILED SUCCESSFULLY, but it must be rejected.\n"
    "The compile-time check this case exercises is missing or no longer fires.\n"
    "  expected an error matching: ${STRATA_CF_REGEX}\n"
    "  command: ${command_text}")
elseif(NOT output MATCHES "${STRATA_CF_REGEX}")
  message(NOTICE "---- compiler output (exit code ${result}) ----\n${output}"
                 "---- end of compiler output ----")
  message(FATAL_ERROR
    "[${STRATA_CF_NAME}] WRONG ERROR: ${STRATA_CF_SOURCE} failed to compile, but not with the "
    "expected error.\n"
    "Either the case has an unrelated mistake (a typo, a missing include) or the check's message "
    "changed; the compiler output is above.\n"
    "  expected an error matching: ${STRATA_CF_REGEX}\n"
    "  command: ${command_text}")
endif()

message(STATUS "[${STRATA_CF_NAME}] rejected as expected (matched '${STRATA_CF_REGEX}')")
