# shellcheck shell=bash
# Helpers shared by the end-to-end test drivers microblog_e2e.sh and migrate_errors_e2e.sh,
# which source this file (it runs nothing by itself): the argument check and scratch folder
# (e2e_setup), the transcript helpers (say, show_command, run, sql, tables, say_diff, generated),
# and the normalization of the transcript and its comparison with the golden file (normalize,
# e2e_finish, which honours UPDATE_GOLDEN=1).
#
# Two settings, read when used, let a driver differ:
#   SEPARATE_STDERR=1  run appends a command's standard output then its standard error (kept
#                      apart in $OUT and $ERR); otherwise both are merged into $OUT.
#   KEEP_IDS=REGEX     12-digit hex words matching the awk regex REGEX are hand-written ids
#                      that normalize leaves as they are; otherwise every one becomes REVn.

# Setup. ----------------------------------------------------------------------------------------

# e2e_setup SCRATCH GOLDEN STRATA MICROBLOG_V1 ... MICROBLOG_V6: checks the arguments (exit 2 on
# a bad one) and sets BIN (program name to absolute path), GOLDEN, WORK (SCRATCH, emptied, made
# the current folder), DB (app.db in it, the sqlite backend's file) and DATABASE_URL (the app
# database on E2E_BACKEND, sqlite by default), T (the raw transcript, emptied), OUT
# and ERR (the output of the last command run).
e2e_setup() {
  local name
  if [[ $# -ne 9 ]]; then
    echo "usage: $0 SCRATCH GOLDEN STRATA MICROBLOG_V1 ... MICROBLOG_V6" >&2
    exit 2
  fi
  WORK=$1 GOLDEN=$2
  declare -gA BIN=([strata]=$3 [microblog_v1]=$4 [microblog_v2]=$5 [microblog_v3]=$6
                   [microblog_v4]=$7 [microblog_v5]=$8 [microblog_v6]=$9)
  GOLDEN=$(realpath -m "$GOLDEN")  # the paths stay valid after the cd below
  for name in "${!BIN[@]}"; do
    [[ -x ${BIN[$name]} ]] || { echo "$name: ${BIN[$name]} is not an executable" >&2; exit 2; }
    BIN[$name]=$(realpath "${BIN[$name]}")
  done
  rm -rf "$WORK" && mkdir -p "$WORK" && WORK=$(cd "$WORK" && pwd -P) || exit 2
  cd "$WORK" || exit 2
  E2E_BACKEND=${E2E_BACKEND:-sqlite}
  case $E2E_BACKEND in
    sqlite)
      command -v sqlite3 > /dev/null || { echo "the sqlite3 shell is missing (scripts/install-deps)" >&2; exit 2; } ;;
    postgresql)
      # Skipped (77, ctest's SKIP_RETURN_CODE) without a server: scripts/test starts one.
      [[ -n ${STRATA_TEST_PG_SERVER:-} ]] || { echo "skipped: no PostgreSQL server (STRATA_TEST_PG_SERVER; scripts/test sets it)" >&2; exit 77; }
      PG_PREFIX=e2e_$$_
      trap db_drop_all EXIT ;;
    *) echo "unknown E2E_BACKEND '$E2E_BACKEND'" >&2; exit 2 ;;
  esac
  DB=$WORK/app.db  # the sqlite backend's file
  db_create app
  export DATABASE_URL=$(db_url app)
  T=$WORK/transcript.raw  # what the commands printed, before normalization
  OUT=$WORK/last.out      # the output of the last command (with SEPARATE_STDERR=1, stdout only)
  ERR=$WORK/last.err      # with SEPARATE_STDERR=1, the standard error of the last command
  : > "$T"
}

# Databases, by name, on the backend of E2E_BACKEND: sqlite (files NAME.db in WORK) or
# postgresql (databases on the server of STRATA_TEST_PG_SERVER, dropped when the script ends).
# Each function takes the database's name: db_url, db_create (empty; sqlite: nothing to do),
# db_exists, db_copy FROM TO, db_psql / db_sqlite3 (a statement), db_fingerprint (changes when
# anything in it does).

PG_PORT=54329  # scripts/pg-server's socket name
pg_psql() {  # pg_psql DB SQL: tab-separated rows, no headers
  psql -X -q -At -v ON_ERROR_STOP=1 -h "$STRATA_TEST_PG_SERVER" -p "$PG_PORT" -U postgres -d "$1" -c "$2"
}
db_url() {
  if [[ $E2E_BACKEND == sqlite ]]; then echo "sqlite:///$WORK/$1.db"
  else echo "postgresql:///$PG_PREFIX$1?host=$STRATA_TEST_PG_SERVER&port=$PG_PORT&user=postgres"; fi
}
db_create() {
  [[ $E2E_BACKEND == sqlite ]] || pg_psql postgres "CREATE DATABASE \"$PG_PREFIX$1\""
}
db_exists() {
  if [[ $E2E_BACKEND == sqlite ]]; then [[ -e $WORK/$1.db ]]
  else [[ $(pg_psql postgres "SELECT count(*) FROM pg_database WHERE datname = '$PG_PREFIX$1'") == 1 ]]; fi
}
db_copy() {
  if [[ $E2E_BACKEND == sqlite ]]; then cp "$WORK/$1.db" "$WORK/$2.db"
  else pg_psql postgres "CREATE DATABASE \"$PG_PREFIX$2\" TEMPLATE \"$PG_PREFIX$1\""; fi
}
db_fingerprint() {
  if [[ $E2E_BACKEND == sqlite ]]; then md5sum < "$WORK/$1.db"
  else  # \restrict lines hold a random key, new on each dump
    pg_dump -h "$STRATA_TEST_PG_SERVER" -p "$PG_PORT" -U postgres "$PG_PREFIX$1" |
      grep -v '^\\\(un\)\?restrict ' | md5sum
  fi
}
db_drop_all() {
  local name
  for name in $(pg_psql postgres "SELECT datname FROM pg_database WHERE datname LIKE '$PG_PREFIX%'"); do
    pg_psql postgres "DROP DATABASE \"$name\"" || true
  done
}
# db_dump NAME [--rows]: the database's schema and rows as SQL text (with --rows, the ledger's
# rows left out), for comparing before and after.
db_dump() {
  if [[ $E2E_BACKEND == sqlite ]]; then
    if [[ ${2:-} == --rows ]]; then sqlite3 -batch "$WORK/$1.db" .dump | grep -v strata_migrations
    else sqlite3 -batch "$WORK/$1.db" .dump; fi
  else
    local rows=()
    [[ ${2:-} == --rows ]] && rows=(--exclude-table-data=strata_migrations)
    pg_dump -h "$STRATA_TEST_PG_SERVER" -p "$PG_PORT" -U postgres "${rows[@]}" "$PG_PREFIX$1" |
      grep -v '^\\\(un\)\?restrict '
  fi
}
# db_query DB SQL: runs SQL, rows one a line, columns separated by '|'.
db_query() {
  if [[ $E2E_BACKEND == sqlite ]]; then sqlite3 -batch "$WORK/$1.db" "$2"
  else pg_psql "$PG_PREFIX$1" "$2" | tr '\t' '|'; fi
}

# Transcript helpers. ---------------------------------------------------------------------------

say() { printf '%s\n' "$*" >> "$T"; }

# The command line as a user would type it: arguments with spaces or quotes are quoted.
show_command() {
  local line=$1 arg
  shift
  for arg in "$@"; do
    if [[ $arg =~ [[:space:]\"\'\;\*\$] || -z $arg ]]; then line+=" \"${arg//\"/\\\"}\""; else line+=" $arg"; fi
  done
  say "\$ $line"
}

# run NAME ARG...: runs program NAME (a key of BIN) in WORK with stdin from /dev/null, appending
# the command, its output (with SEPARATE_STDERR=1: its standard output, then its standard error)
# and a non-zero exit code to the transcript. Returns the exit code.
run() {
  local name=$1 rc
  shift
  show_command "$name" "$@"
  if [[ ${SEPARATE_STDERR:-} == 1 ]]; then
    "${BIN[$name]}" "$@" < /dev/null > "$OUT" 2> "$ERR"
    rc=$?
    cat "$OUT" "$ERR" >> "$T"
  else
    "${BIN[$name]}" "$@" < /dev/null > "$OUT" 2>&1
    rc=$?
    cat "$OUT" >> "$T"
  fi
  [[ $rc -eq 0 ]] || say "[exit $rc]"
  return $rc
}

# sql STATEMENT: runs a statement on the app database (the sqlite3 shell, or psql), echoed like a
# command.
sql() {
  show_command "$([[ $E2E_BACKEND == sqlite ]] && echo "sqlite3 app.db" || echo "psql app")" "$1"
  db_query app "$1" < /dev/null >> "$T" 2>&1 || say "[exit $?]"
}

# tables: the tables in the app database (no temporary table of a rebuild may remain).
tables() {
  if [[ $E2E_BACKEND == sqlite ]]; then
    say "# tables: $(db_query app "SELECT group_concat(name, ' ') FROM
                     (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)")"
  else
    say "# tables: $(db_query app "SELECT string_agg(tablename, ' ' ORDER BY tablename)
                     FROM pg_tables WHERE schemaname = 'public'")"
  fi
}

# say_diff OLD NEW SAME DIFFERENT: says SAME when files OLD and NEW are alike, else DIFFERENT
# followed by their unified diff without its two header lines (kept in WORK/last.diff).
say_diff() {
  if diff -u "$1" "$2" > "$WORK/last.diff"; then
    say "$3"
  else
    say "$4"
    tail -n +3 "$WORK/last.diff" >> "$T"
  fi
}

# The revision id in the last command's "Generated migrations/versions/<id>_<slug>.yaml".
generated() {
  sed -n 's|^Generated .*/versions/\([0-9a-f]\{12\}\)[_.].*|\1|p' "$OUT"
}

# Normalization and comparison. -----------------------------------------------------------------

# Revision ids (12 lowercase hex digits standing alone, but those matching KEEP_IDS) become
# REV1, REV2... in order of first appearance, and an 8-digit prefix of a known one REVn[:8];
# 16-digit checksums CHECKSUM; timestamps TIMESTAMP; the scratch folder TMP.
normalize() {
  awk -v work="$WORK" -v keep="${KEEP_IDS:-}" '
    function hexword(w) { return w ~ /^[0-9a-f]+$/ }
    function token(w,   i) {
      if (!hexword(w)) return w
      if (length(w) == 16) return "CHECKSUM"
      if (length(w) == 12 && (keep == "" || w !~ keep)) {
        if (!(w in rev)) { rev[w] = "REV" (++count); ids[count] = w }
        return rev[w]
      }
      if (length(w) == 8)
        for (i = 1; i <= count; i++) if (substr(ids[i], 1, 8) == w) return "REV" i "[:8]"
      return w
    }
    {
      line = $0
      while ((at = index(line, work)) > 0)
        line = substr(line, 1, at - 1) "TMP" substr(line, at + length(work))
      gsub(/[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][ T][0-9][0-9]:[0-9][0-9]:[0-9][0-9](\.[0-9]+)?Z?/, "TIMESTAMP", line)
      out = ""
      while (match(line, /[0-9A-Za-z]+/)) {
        out = out substr(line, 1, RSTART - 1) token(substr(line, RSTART, RLENGTH))
        line = substr(line, RSTART + RLENGTH)
      }
      print out line
    }'
}

# e2e_finish: normalizes the transcript into WORK/transcript.txt and exits: 0 when it matches
# GOLDEN (or, with UPDATE_GOLDEN=1, after copying it over GOLDEN), 1 with the diff when not.
e2e_finish() {
  if [[ $E2E_BACKEND == postgresql ]]; then
    # The server's socket folder and this run's database prefix vary from run to run.
    sed -e "s|$STRATA_TEST_PG_SERVER|PGSERVER|g" -e "s|$PG_PREFIX|e2e_|g" "$T" > "$T.pg" && mv "$T.pg" "$T"
  fi
  normalize < "$T" > "$WORK/transcript.txt"
  if [[ ${UPDATE_GOLDEN:-} == 1 ]]; then
    cp "$WORK/transcript.txt" "$GOLDEN"
    echo "updated $GOLDEN: read every changed line (git diff) before committing it"
    exit 0
  fi
  if ! diff -u "$GOLDEN" "$WORK/transcript.txt"; then
    echo "the transcript ($WORK/transcript.txt) differs from $GOLDEN (diff above);" \
         "if the change is intended, regenerate with UPDATE_GOLDEN=1" >&2
    exit 1
  fi
  echo "transcript matches $GOLDEN"
  exit 0
}
