#!/usr/bin/env bash
# ctest bench_smoke_postgresql: strata_bench, small (two rounds, the repeated workloads twice
# in each, each side going first), on the PostgreSQL server that scripts/test started
# (STRATA_TEST_PG_SERVER); skipped (77) when there is none.
#   smoke-postgresql.sh STRATA_BENCH PG_SERVER_SCRIPT
set -euo pipefail
bench=$1 pg_server=$2
if [[ -z ${STRATA_TEST_PG_SERVER:-} ]]; then
  echo "no PostgreSQL server (STRATA_TEST_PG_SERVER is unset): skipped"
  exit 77
fi
exec "$bench" -n 2000 --gets 500 --queries 50 --lazy 100 --repeat 2 --rounds 2 \
  --url "$(bash "$pg_server" url "$STRATA_TEST_PG_SERVER" strata_bench_smoke)"
