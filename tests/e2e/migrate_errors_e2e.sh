#!/usr/bin/env bash
# End-to-end test of the migration commands' bad inputs: each gives exit code 1 and exactly one
# line `error: ...` on standard error, and loses nothing (the database's rows and ledger are
# unchanged after, unless the case says what changed). The state is built with the microblog
# binaries as a user would, on a SQLite file or (E2E_BACKEND=postgresql) a database on the
# server of STRATA_TEST_PG_SERVER; registered in CMakeLists.txt as migrate_errors_are_one_line
# and migrate_errors_on_postgresql.
#
# Usage: migrate_errors_e2e.sh SCRATCH GOLDEN STRATA MICROBLOG_V1 ... MICROBLOG_V6
# The transcript (each command, its standard output then its standard error, `[exit N]` when
# non-zero) is normalized — revision ids strata generated to REV1, REV2... in order of first
# appearance (an 8-digit prefix to REVn[:8]; the hand-written aaaa/bbbb/cccc/ffff ids stay),
# checksums to CHECKSUM, timestamps to TIMESTAMP, the scratch folder to TMP — and compared with
# GOLDEN. After an intended change of output, read every changed line, then regenerate with
#   UPDATE_GOLDEN=1 ctest --test-dir BUILD -R migrate_errors_are_one_line
# The setup, transcript helpers, normalization and comparison are in lib.sh, shared with
# microblog_e2e.sh; this driver keeps standard output and standard error apart (for `fails`)
# and tells normalize which ids are hand-written.
set -u -o pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SEPARATE_STDERR=1                         # run: standard output, then standard error
KEEP_IDS='^(aaaa|bbbb|cccc|ffff)0000000'  # normalize: the hand-written ids stay
e2e_setup "$@"

# Transcript helpers (more in lib.sh). ----------------------------------------------------------

# fails NAME ARG...: run, and say in the transcript when the command did not fail as it must:
# exit code 1 and exactly one line on standard error, starting with "error: ".
fails() {
  local rc
  run "$@"
  rc=$?
  [[ $rc -eq 1 ]] || say "# WRONG: exit code $rc, expected 1"
  [[ $(wc -l < "$ERR") -eq 1 && $(head -c 7 "$ERR") == "error: " ]] ||
    say "# WRONG: standard error is not one line 'error: ...'"
}

# write FILE: writes standard input to FILE and shows it, numbered, in the transcript.
write() {
  cat > "$1"
  say "# wrote $1:"
  awk '{ printf "%6d  %s\n", NR, $0 }' "$1" >> "$T"
}

# snapshot: keeps the database's full contents (schema, rows, ledger); unchanged [--rows]
# says whether they are the same now (with --rows: everything but the ledger).
snapshot() { db_dump app > "$WORK/snapshot.sql"; db_dump app --rows > "$WORK/snapshot_rows.sql"; }
unchanged() {
  if [[ ${1:-} == --rows ]]; then
    db_dump app --rows > "$WORK/now_rows.sql"
    say_diff "$WORK/snapshot_rows.sql" "$WORK/now_rows.sql" \
             "# database (but the ledger) unchanged" "# database (but the ledger) CHANGED:"
  else
    db_dump app > "$WORK/now.sql"
    say_diff "$WORK/snapshot.sql" "$WORK/now.sql" "# database unchanged" "# database CHANGED:"
  fi
}

# The state: the chain v1 ... v6 written, the database at v4 with rows. -------------------------

say "## the microblog chain v1 ... v6, the database at v4 with rows"
run microblog_v1 db init
run microblog_v1 db migrate -m "users table"
run microblog_v2 db migrate -m "posts table"
run microblog_v3 db migrate -m "user profile"
run microblog_v4 db migrate -m followers
R4=$(generated)
run microblog_v5 db migrate -m v5 --rename user.about_me:bio
run microblog_v6 db migrate -m "admin flag"
R6=$(generated)
run microblog_v4 db upgrade "$R4"
run microblog_v4 seed john
run microblog_v4 seed mary
R2_FILE=$(ls migrations/versions/*_posts_table.yaml)
snapshot

say ""
say "## a malformed migration file: the error names the file and the line"
write migrations/versions/ffff00000000_broken.yaml << EOF
revision: ffff00000000
down_revision: $R6
message: broken
upgrade:
  - add_column:
      table: user
     column: {name: nickname, type: String(32), nullable: true}
downgrade: []
EOF
fails microblog_v6 db upgrade
sed -i 's/^     column: {name: nickname, type: String(32)/      column: {name: nickname, type: Strin(32)/' \
  migrations/versions/ffff00000000_broken.yaml
say "# line 7 indented right, its type mistyped instead:"
fails microblog_v6 db history
rm migrations/versions/ffff00000000_broken.yaml
unchanged

say ""
say "## an unknown revision"
fails microblog_v6 db upgrade zzzz
fails microblog_v6 db stamp zzzz
unchanged

say ""
say "## below base"
fails microblog_v6 db downgrade -9
unchanged

say ""
say "## an ambiguous prefix and two heads, in a separate migrations folder"
mkdir -p branchy/versions
db_create branchy
BRANCHY=$(db_url branchy)
write branchy/versions/bbbb00000000_notes.yaml << 'EOF'
revision: bbbb00000000
message: notes
upgrade:
  - execute: {sql: "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"}
downgrade:
  - execute: {sql: "DROP TABLE note"}
EOF
write branchy/versions/aaaa00000001_left.yaml << 'EOF'
revision: aaaa00000001
down_revision: bbbb00000000
message: left
upgrade:
  - execute: {sql: "CREATE TABLE left_note (id INTEGER PRIMARY KEY)"}
downgrade:
  - execute: {sql: "DROP TABLE left_note"}
EOF
write branchy/versions/aaaa00000002_right.yaml << 'EOF'
revision: aaaa00000002
down_revision: bbbb00000000
message: right
upgrade:
  - execute: {sql: "CREATE TABLE right_note (id INTEGER PRIMARY KEY)"}
downgrade:
  - execute: {sql: "DROP TABLE right_note"}
EOF
fails strata -d branchy --url "$BRANCHY" upgrade aaaa
fails strata -d branchy --url "$BRANCHY" upgrade
run strata -d branchy heads
run strata -d branchy branches
run strata -d branchy merge heads -m merge
run strata -d branchy --url "$BRANCHY" upgrade
run strata -d branchy --url "$BRANCHY" current
run strata -d branchy history
unchanged

say ""
say "## an applied migration edited afterwards: comments, line ends, its message and branch labels"
say "## do not count; a real edit is refused by name by the commands that apply, and a warning for"
say "## the reports, until undone"
cp "$R2_FILE" "$WORK/posts_table.yaml.orig"
{ echo "# an afterthought"; sed 's/$/\r/' "$WORK/posts_table.yaml.orig"; } > "$R2_FILE"
run microblog_v6 db current
sed -e 's/^message: .*/message: posts table, edited/' -e 's/^created: .*/created: "2020-01-01T00:00:00Z"\nbranch_labels: [posts]/' "$WORK/posts_table.yaml.orig" > "$R2_FILE"
run microblog_v6 db current
sed 's/String(140)/String(150)/' "$WORK/posts_table.yaml.orig" > "$R2_FILE"
fails microblog_v6 db upgrade
fails microblog_v6 db downgrade
run microblog_v6 db current
run microblog_v6 db showmigrations
cp "$WORK/posts_table.yaml.orig" "$R2_FILE"
run microblog_v6 db current
unchanged

say ""
say "## a call the application has not registered: refused before anything runs"
write migrations/versions/cccc00000001_audit.yaml << EOF
revision: cccc00000001
down_revision: $R6
message: audit table
upgrade:
  - execute: {sql: "CREATE TABLE audit (id INTEGER PRIMARY KEY)"}
downgrade:
  - execute: {sql: "DROP TABLE audit"}
EOF
write migrations/versions/cccc00000002_backfill.yaml << 'EOF'
revision: cccc00000002
down_revision: cccc00000001
message: backfill
upgrade:
  - call: {name: backfill}
downgrade: []
EOF
fails microblog_v6 db upgrade
rm migrations/versions/cccc0000000[12]_*.yaml
unchanged

say ""
say "## an operation failing half-way: the migration rolls back whole, the ledger says why"
sql "UPDATE \"user\" SET password_hash = NULL WHERE username = 'john'"
snapshot
fails microblog_v6 db upgrade
run microblog_v6 db current
tables
run microblog_v4 dump
unchanged --rows
say "# the row fixed, the upgrade goes through"
sql "UPDATE \"user\" SET password_hash = 'hash-of-john' WHERE username = 'john'"
run microblog_v6 db upgrade
run microblog_v6 db current
run microblog_v6 dump
snapshot

say ""
say "## no usable database"
fails microblog_v6 db --url sqlite:///no/such/folder/x.db current
fails microblog_v6 db --url sqlite:///no/such/folder/x.db upgrade
fails microblog_v6 db --url sqlite:/app.db current
fails strata --url mysql://u@h/db current
say "# (DATABASE_URL unset)"
(unset DATABASE_URL && fails strata current)
fails strata --url "sqlite:///$WORK/missing.db" upgrade zzzz
fails microblog_v6 db --url sqlite:///missing.db downgrade
fails microblog_v6 db --url sqlite:///missing.db stamp zzzz
say "# missing.db created by the failed commands: $(test -e missing.db && echo yes || echo no)"
unchanged

say ""
say "## init over an existing migrations folder"
fails microblog_v6 db init
say "# $(find migrations/versions -name "*.yaml" | wc -l) migration files, README kept: $(test -f migrations/README && echo yes)"

say ""
say "## autogenerate from the standalone tool, which has no models"
fails strata migrate -m "from the tool"
fails strata makemigrations
fails strata migrate --check
say "# $(find migrations/versions -name "*.yaml" | wc -l) migration files"
run microblog_v6 db current
run microblog_v6 db check
unchanged

say ""
say "## the database changed by hand: db check names each difference"
sql "ALTER TABLE \"user\" ADD COLUMN nickname VARCHAR(32)"
sql "DROP INDEX ix_post_timestamp"
sql "CREATE TABLE scratch (id INTEGER PRIMARY KEY, note TEXT)"
fails microblog_v6 db check
fails strata check
say "# undone by hand, the check passes again"
sql "ALTER TABLE \"user\" DROP COLUMN nickname"
sql "CREATE INDEX ix_post_timestamp ON post (timestamp)"
sql "DROP TABLE scratch"
run microblog_v6 db check
db_dump app > "$WORK/now.sql"
say_diff <(sort "$WORK/snapshot.sql") <(sort "$WORK/now.sql") \
         "# database unchanged (but for the order of the recreated index)" "# database CHANGED:"

snapshot  # (the index made again sits elsewhere in the dump)

say ""
say "## offline SQL cannot count from a database it does not read"
fails microblog_v6 db upgrade --sql current:head
fails microblog_v6 db upgrade --sql +1
fails microblog_v6 db stamp --sql current
show_command microblog_v6 db upgrade --sql "$R4:+1"
"${BIN[microblog_v6]}" db upgrade --sql "$R4:+1" < /dev/null > "$OUT" 2> "$ERR" &&
  say "# exit 0: the SQL of the migration after $R4 ($(grep -c '^-- Running upgrade' "$OUT") migration)"
unchanged

say ""
say "## output that cannot be written fails the command"
show_command microblog_v6 db upgrade --sql ">/dev/full"
"${BIN[microblog_v6]}" db upgrade --sql < /dev/null > /dev/full 2> "$ERR"
rc=$?
cat "$ERR" >> "$T"
[[ $rc -eq 0 ]] || say "[exit $rc]"
[[ $rc -eq 1 && $(wc -l < "$ERR") -eq 1 ]] || say "# WRONG: expected exit 1 and one line"

say ""
say "## files in versions/ that are not migrations: an editor's lock file, a broken link"
ln -s "user@host.123:17" "migrations/versions/.#$(basename "$R2_FILE")"
ln -s nowhere migrations/versions/notes.txt
run microblog_v6 db heads
rm "migrations/versions/.#$(basename "$R2_FILE")" migrations/versions/notes.txt
ln -s nowhere.yaml migrations/versions/dangling.yaml
fails microblog_v6 db heads
rm migrations/versions/dangling.yaml
unchanged

e2e_finish
