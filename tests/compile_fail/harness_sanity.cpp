// Control case for the compile-fail harness (tests/compile_fail/CMakeLists.txt): must fail to
// compile with the message "strata-harness-sanity", the way a real case's static_assert does.
#include <type_traits>

#include "strata/error.hpp"  // proves the harness puts include/ on the include path

template <typename T>
inline constexpr bool kAlwaysFalse = !std::is_same_v<T, T>;

// Fires only on instantiation, as strata's own checks do, so this also shows that
// -fsyntax-only instantiates templates.
template <typename T>
void reject() {
  static_assert(kAlwaysFalse<T>, "strata-harness-sanity");
}

int main() { reject<int>(); }
