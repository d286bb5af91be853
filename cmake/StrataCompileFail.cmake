# strata_compile_fail(<name> <source> <regex>): registers a ctest, labelled compile_fail, that
# passes only if <source> does NOT compile and the compiler's output matches <regex>, so each case
# proves that the intended static_assert or concept fired, not merely that something broke.
# Used by tests/compile_fail/CMakeLists.txt; cmake/StrataRunCompileFail.cmake does the work.
#
# The source is compiled by the project's C++ compiler with -fsyntax-only, C++20 and only
# ${PROJECT_SOURCE_DIR}/include on the include path: no CMAKE_CXX_FLAGS, sanitizer or warning
# flags (none is needed to reach a diagnostic, and nothing is linked), so the cases behave the
# same in every build type. <source> is relative to the calling CMakeLists.txt; <regex> is a
# CMake regular expression matched against stdout+stderr.

set(_strata_compile_fail_runner "${CMAKE_CURRENT_LIST_DIR}/StrataRunCompileFail.cmake")

function(strata_compile_fail name source regex)
  if(ARGC GREATER 3)
    message(FATAL_ERROR "strata_compile_fail(${name}): expected <name> <source> <regex>, got "
                        "extra arguments '${ARGN}' (quote the regex if it contains spaces or ;)")
  endif()
  cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE
             OUTPUT_VARIABLE source_path)
  if(NOT EXISTS "${source_path}")
    message(FATAL_ERROR "strata_compile_fail(${name}): no such source '${source_path}'")
  endif()
  if(regex STREQUAL "")
    message(FATAL_ERROR "strata_compile_fail(${name}): the regex must not be empty; match the "
                        "message of the check that should fire")
  endif()

  if(CMAKE_CXX20_STANDARD_COMPILE_OPTION)
    set(std_flag "${CMAKE_CXX20_STANDARD_COMPILE_OPTION}")
  else()
    set(std_flag "-std=c++20")
  endif()

  # The parameters go through a file, not -D arguments, so a regex may hold ';', '\' or quotes.
  # A bracket argument long enough not to be closed by anything inside the regex holds it.
  set(eq "=")
  while(regex MATCHES "]${eq}]")
    string(APPEND eq "=")
  endwhile()
  set(params "${CMAKE_CURRENT_BINARY_DIR}/compile_fail/${name}.cmake")
  file(WRITE "${params}"
    "# Written by strata_compile_fail(${name}) at configure time; read by StrataRunCompileFail.\n"
    "set(STRATA_CF_NAME [${eq}[${name}]${eq}])\n"
    "set(STRATA_CF_COMPILER [${eq}[${CMAKE_CXX_COMPILER}]${eq}])\n"
    "set(STRATA_CF_FLAGS [${eq}[${std_flag};-fsyntax-only;-fdiagnostics-color=never]${eq}])\n"
    "set(STRATA_CF_INCLUDE_DIR [${eq}[${PROJECT_SOURCE_DIR}/include]${eq}])\n"
    "set(STRATA_CF_SOURCE [${eq}[${source_path}]${eq}])\n"
    "set(STRATA_CF_REGEX [${eq}[${regex}]${eq}])\n")

  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -DSTRATA_CF_PARAMS=${params} -P ${_strata_compile_fail_runner}
    WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(${name} PROPERTIES LABELS compile_fail)
endfunction()
