#!/usr/bin/env bash
# Builds strata_bench optimized (Release, -O2, no sanitizers) in build/bench and runs it.
# Arguments go to strata_bench:  bash bench/run.sh            (N = 100,000)
#                                bash bench/run.sh -n 10000 --repeat 3 --csv /tmp/b.csv
# BUILD_DIR overrides the build folder; JOBS the parallel build jobs (default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${BUILD_DIR:-build/bench}

# -g keeps symbols for callgrind / perf; it does not change the generated code.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O2 -g -DNDEBUG" -DSTRATA_BUILD_BENCH=ON \
  -DSTRATA_BUILD_TESTS=OFF -DSTRATA_BUILD_EXAMPLES=OFF -DSTRATA_WERROR=ON >/dev/null
nice -n 10 cmake --build "$build" --target strata_bench -- -j"${JOBS:-2}"
exec "$build/bench/strata_bench" "$@"
