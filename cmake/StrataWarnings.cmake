# Warning flags for every strata target; -Werror when STRATA_WERROR is on (CI and tests).
add_library(strata_warnings INTERFACE)
target_compile_options(strata_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${STRATA_WERROR}>:-Werror>
  # Optimized g++ 12 builds (the benchmark's) report false positives from inlined library
  # code: -Wmaybe-uninitialized in std::variant's move constructor for strata::Value (GCC bugs
  # 105562 / 107919) and -Wnull-dereference inside CLI11's string helpers. The Debug build,
  # where CI's -Werror applies, keeps both checks as errors.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<NOT:$<CONFIG:Debug>>>:-Wno-maybe-uninitialized -Wno-error=null-dereference>)
