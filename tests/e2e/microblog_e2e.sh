#!/usr/bin/env bash
# End-to-end test of the migration workflow, driven as a user would: the microblog example's
# six versions of the models migrated up one by one over a database with rows in it (a SQLite
# file, or with E2E_BACKEND=postgresql a database on the server of STRATA_TEST_PG_SERVER),
# the chain inspected, printed as offline SQL, walked back down one step at a time to base (the
# schema and the rows compared with what each version had on the way up) and up again, then
# moved with Django's verbs. Registered in CMakeLists.txt as
# microblog_migrations_go_up_down_and_back_keeping_rows.
#
# Usage: microblog_e2e.sh SCRATCH GOLDEN STRATA MICROBLOG_V1 ... MICROBLOG_V6
# The transcript (each command, its output, `[exit N]` when non-zero) is normalized — revision
# ids to REV1, REV2... in order of first appearance (an 8-digit prefix of REVn to REVn[:8]),
# checksums to CHECKSUM, timestamps to TIMESTAMP, the scratch folder to TMP — and compared with
# GOLDEN. After an intended change of output, read every changed line, then regenerate with
#   UPDATE_GOLDEN=1 ctest --test-dir BUILD -R microblog_migrations_go_up
# The setup, transcript helpers, normalization and comparison are in lib.sh, shared with
# migrate_errors_e2e.sh; this driver merges each command's standard error into its output.
set -u -o pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup "$@"

# Schema, compared semantically. ------------------------------------------------------------------

# schema [NAME]: every table of database NAME (default app) but the ledger, by name.
# SQLite: its columns (cid, name, type, notnull, default, pk), indexes (name, unique, origin,
# columns), foreign keys (table, from, to, on_update, on_delete), the constraint names its
# CREATE TABLE declares, and its index names. PostgreSQL: its columns (position, name, type,
# not null, default, identity), indexes (name, definition) and constraints (name, definition).
# Semantic rather than the CREATE text, which differs between a table created whole and one
# grown by ALTER TABLE or rebuilt.
schema() {
  local name=${1:-app} t
  if [[ $E2E_BACKEND == postgresql ]]; then
    for t in $(db_query "$name" "SELECT tablename FROM pg_tables WHERE schemaname = 'public'
                 AND tablename <> 'strata_migrations' ORDER BY tablename"); do
      echo "table $t"
      db_query "$name" "
        SELECT '  column', row_number() OVER (ORDER BY a.attnum), a.attname,
               format_type(a.atttypid, a.atttypmod), a.attnotnull,
               coalesce(pg_get_expr(d.adbin, d.adrelid), 'NULL'), a.attidentity
          FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = to_regclass(quote_ident('$t')) AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attnum"
      db_query "$name" "SELECT '  index', indexname, indexdef FROM pg_indexes
                         WHERE schemaname = 'public' AND tablename = '$t' ORDER BY indexname"
      db_query "$name" "SELECT '  constraint', conname, pg_get_constraintdef(oid) FROM pg_constraint
                         WHERE conrelid = to_regclass(quote_ident('$t')) ORDER BY conname"
    done
    return
  fi
  local db=$WORK/$name.db
  for t in $(sqlite3 -batch "$db" "SELECT name FROM sqlite_master WHERE type = 'table'
               AND name <> 'strata_migrations' AND name NOT LIKE 'sqlite_%' ORDER BY name"); do
    echo "table $t"
    sqlite3 -batch -separator ' ' "$db" "
      SELECT '  column', cid, name, type, \"notnull\", quote(dflt_value), pk
        FROM pragma_table_info('$t') ORDER BY cid;
      SELECT '  index', il.name, il.\"unique\", il.origin,
             (SELECT group_concat(name, ',') FROM
               (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno))
        FROM pragma_index_list('$t') AS il ORDER BY il.name;
      SELECT '  foreign key', \"table\", \"from\", \"to\", on_update, on_delete
        FROM pragma_foreign_key_list('$t') ORDER BY \"from\", \"table\", \"to\";
      SELECT '  index name', name FROM sqlite_master
        WHERE type = 'index' AND tbl_name = '$t' ORDER BY name;"
    sqlite3 -batch "$db" "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '$t'" |
      grep -o 'CONSTRAINT [^ ]*' | sort | sed 's/^/  /'
  done
}

# record vN: keeps the schema at version N and prints it into the transcript.
record() {
  schema > "$WORK/schema_$1"
  say "# schema at $1:"
  cat "$WORK/schema_$1" >> "$T"
}

# compare vN [NAME [WHAT]]: says whether database NAME's schema is the one recorded at version N.
compare() {
  local what=${3:-schema}
  schema "${2:-app}" > "$WORK/schema_now"
  say_diff "$WORK/schema_$1" "$WORK/schema_now" "# $what matches $1" "# $what differs from $1:"
}

# The scenario. ---------------------------------------------------------------------------------

say "## 1. v1: a new project"
run microblog_v1 db init
run microblog_v1 db migrate -m "users table"
run microblog_v1 db upgrade
run microblog_v1 seed john
run microblog_v1 db migrate -m again
record v1

say ""
say "## 2. the models evolve, one migration per version"
run microblog_v2 db migrate -m "posts table"
R2=$(generated)
run microblog_v2 db upgrade
run microblog_v2 seed susan
run microblog_v2 db migrate -m again
record v2

run microblog_v3 db migrate -m "user profile"
R3=$(generated)
run microblog_v3 db upgrade
run microblog_v3 seed mary
run microblog_v3 db migrate -m again
record v3

run microblog_v4 db migrate -m "followers"
R4=$(generated)
run microblog_v4 db upgrade
run microblog_v4 seed david
sql "INSERT INTO followers (follower_id, followed_id) VALUES (1, 3), (4, 3)"
run microblog_v4 db migrate -m again
run microblog_v4 dump
record v4

say "# v5 renames about_me to bio: without being told, migrate refuses to guess"
run microblog_v5 db migrate -m v5
say "# nothing written: $(find migrations/versions -name "*.yaml" | wc -l) migration files"
run microblog_v5 db migrate -m v5 --rename user.about_me:bio
R5=$(generated)
run microblog_v5 db upgrade
say "# the about_me values are now bio, the posts and followers kept through the rebuilds"
run microblog_v5 dump
sql "SELECT follower_id, followed_id FROM followers ORDER BY 1, 2"
run microblog_v5 seed ann
run microblog_v5 db migrate -m again
record v5

run microblog_v6 db migrate -m "admin flag, posts not empty"
run microblog_v6 db upgrade
run microblog_v6 seed tom
run microblog_v6 db migrate -m again
record v6
P2=${R2:0:8} P3=${R3:0:8} P4=${R4:0:8} P5=${R5:0:8}

say ""
say "## 3. at head"
run microblog_v6 db history
run microblog_v6 db history -i
run microblog_v6 db history -v -r "$P2:$P4"
run microblog_v6 db showmigrations
run microblog_v6 db current
run microblog_v6 db current -v
run microblog_v6 db heads
run microblog_v6 db branches
run microblog_v6 db show head
run microblog_v6 db migrate --check
# What the chain would do to a database with rows: the rebuilds are SQLite's alone.
run microblog_v6 db lint
run microblog_v6 db check
run microblog_v6 db upgrade
run microblog_v6 dump

say ""
say "## 4. offline SQL touches no database"
before=$(db_fingerprint app)
run strata --url "$(db_url offline)" upgrade --sql
run microblog_v6 db downgrade --sql head:base
run microblog_v6 db sqlmigrate "$P5"
if [[ $(db_fingerprint app) == "$before" ]]; then say "# app untouched"; else say "# app CHANGED by --sql"; fi
if db_exists offline; then say "# offline CREATED by --sql"; else say "# offline untouched (not created)"; fi

say ""
say "## 5. down one step at a time, the schema and rows of each version back"
for n in 5 4 3 2 1; do
  run microblog_v6 db downgrade
  compare "v$n"
  run "microblog_v$n" dump
  [[ $n != 5 ]] || run microblog_v6 db current
done
run microblog_v6 db downgrade
tables
run microblog_v6 db current
run microblog_v6 db upgrade
compare v6 app "schema after base and back up"
run microblog_v6 seed zoe
run microblog_v6 dump

say ""
say "## 6. Django's vocabulary"
run microblog_v6 db migrate "$P3"
compare v3
run microblog_v3 dump
run microblog_v6 db showmigrations
run microblog_v6 db migrate head
compare v6
run microblog_v6 db migrate zero
tables
run microblog_v6 db upgrade
compare v6
run microblog_v6 db makemigrations
say "# --fake and stamp record revisions without running anything (on a copy)"
db_copy app copy
COPY=$(db_url copy)
run microblog_v6 db --url "$COPY" migrate "$P4" --fake
run microblog_v6 db --url "$COPY" current
compare v6 copy
run microblog_v6 db --url "$COPY" showmigrations
run microblog_v6 db --url "$COPY" check
run microblog_v6 db --url "$COPY" stamp head
run microblog_v6 db --url "$COPY" check
compare v6 copy

say ""
say "## 7. db squash: the chain as one migration; this database goes on, a new one runs it alone"
run microblog_v6 seed zoe
run microblog_v6 db squash head -m "microblog schema"
SQUASHED=$(generated)
run microblog_v6 db history
run microblog_v6 db current
run microblog_v6 db check
run microblog_v6 dump
db_create fresh
FRESH=$(db_url fresh)
run microblog_v6 db --url "$FRESH" upgrade
compare v6 fresh "the squashed migration's schema"
run microblog_v6 db --url "$FRESH" check
say "# the chain's files deleted: both databases go on"
find migrations/versions -name '*.yaml' ! -name "${SQUASHED}_*" -delete
run microblog_v6 db check
run microblog_v6 db --url "$FRESH" downgrade base
run microblog_v6 db --url "$FRESH" upgrade
compare v6 fresh
run microblog_v6 db makemigrations

e2e_finish
