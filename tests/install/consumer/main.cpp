// The install check's consumer (tests/install): uses an installed strata through
// find_package(strata) and strata::strata. Prints "strata consumer ok" and exits 0 on success.
#include <cstdio>
#include <exception>

#include "strata/engine/url.hpp"

int main() {
  try {
    const auto url = strata::engine::Url::parse(
        "postgresql://alice:secret@db.example:5433/shop?sslmode=disable");
    if (url.backend() != "postgresql" || url.username != "alice" || url.host != "db.example" ||
        url.port != 5433 || url.database != "shop") {
      std::fprintf(stderr, "strata consumer: Url::parse gave wrong parts for %s\n",
                   url.to_string().c_str());
      return 1;
    }
    std::printf("strata consumer ok: %s\n", url.to_string().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata consumer: %s\n", e.what());
    return 1;
  }
}
