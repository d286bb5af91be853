#!/usr/bin/env bash
# End-to-end test of what each migration command accepts: a command does what its name means
# and nothing else (Django's makemigrations writes a migration and never moves the database),
# and misuse is refused with one line `error: ...` on standard error and the exit code the docs
# give (2 for a usage error, 1 for any other), the database and the migrations folder left as
# they were. Run with the microblog binaries and the standalone tool on SQLite files (what is
# tested here does not depend on the backend); registered in CMakeLists.txt as
# migrate_commands_do_only_what_they_say.
#
# Usage: migrate_commands_e2e.sh SCRATCH GOLDEN STRATA MICROBLOG_V1 ... MICROBLOG_V6
# The transcript (each command, its standard output then its standard error, `[exit N]` when
# non-zero) is normalized as lib.sh says and compared with GOLDEN. After an intended change of
# output, read every changed line, then regenerate with
#   UPDATE_GOLDEN=1 ctest --test-dir BUILD -R migrate_commands_do_only
set -u -o pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SEPARATE_STDERR=1          # run: standard output, then standard error
KEEP_IDS='^aaaa0000000|^000000000001'  # normalize: the hand-written ids stay
E2E_BACKEND=sqlite
e2e_setup "$@"

# Transcript helpers (more in lib.sh). ----------------------------------------------------------

# refused CODE NAME ARG...: run, and say in the transcript when the command did not fail as it
# must: exit code CODE and exactly one line on standard error, starting with "error: ".
refused() {
  local code=$1 rc
  shift
  run "$@"
  rc=$?
  [[ $rc -eq $code ]] || say "# WRONG: exit code $rc, expected $code"
  [[ $(wc -l < "$ERR") -eq 1 && $(head -c 7 "$ERR") == "error: " ]] ||
    say "# WRONG: standard error is not one line 'error: ...'"
}

# snapshot: keeps the database's contents and the list of migration files; unchanged says
# whether both are the same now.
snapshot() {
  db_dump app > "$WORK/snapshot.sql"
  find migrations -type f | sort > "$WORK/snapshot.files"
}
unchanged() {
  db_dump app > "$WORK/now.sql"
  find migrations -type f | sort > "$WORK/now.files"
  say_diff "$WORK/snapshot.sql" "$WORK/now.sql" "# database unchanged" "# database CHANGED:"
  say_diff "$WORK/snapshot.files" "$WORK/now.files" "# migration files unchanged" \
           "# migration files CHANGED:"
}

# The state: the chain v1 ... v3 written and applied, with rows. --------------------------------

say "## the microblog chain v1 ... v3, applied, with rows"
run microblog_v1 db init
run microblog_v1 db migrate -m "users table"
R1=$(generated)
run microblog_v2 db migrate -m "posts table"
run microblog_v3 db migrate -m "user profile"
R3=$(generated)
run microblog_v3 db upgrade
run microblog_v3 seed john
snapshot

say ""
say "## makemigrations writes migrations only: a target or --fake is refused, nothing moves"
refused 2 microblog_v3 db makemigrations zero
refused 2 microblog_v3 db makemigrations "$R1"
refused 2 microblog_v3 db makemigrations zero --fake
refused 2 microblog_v3 db makemigrations --fake
unchanged
run microblog_v3 db makemigrations
run microblog_v3 db makemigrations --check

say ""
say "## migrate TARGET moves the database; the autogenerate options do not go with it"
refused 2 microblog_v3 db migrate zero --check
refused 2 microblog_v3 db migrate zero -m "a message"
refused 2 microblog_v3 db migrate --fake
unchanged
run microblog_v3 db current

say ""
say "## merge joins separate branches: a revision and its own ancestor are refused"
refused 1 strata merge "$R1" "$R3" -m "not a merge"
refused 1 strata merge head "$R1"
say "# merge, squash and sqlmigrate read the files only: a revision relative to the database is refused"
refused 1 strata merge current "$R1"
refused 1 strata squash -1
refused 1 strata sqlmigrate -1
unchanged
run strata heads

say ""
say "## a folder that cannot be made or read: one line naming it, no abort"
refused 1 strata -d /proc/nope init
mkdir -p locked/versions && cp migrations/versions/*.yaml locked/versions/ && chmod 311 locked/versions
# The standalone tool as a user without the right to read locked/versions (root reads anything:
# run as nobody then).
BIN[strata_unprivileged]=$WORK/strata_unprivileged
cat > "${BIN[strata_unprivileged]}" << SCRIPT
#!/bin/sh
[ "\$(id -u)" = 0 ] && exec setpriv --reuid=nobody --regid="\$(id -g nobody)" --clear-groups ${BIN[strata]} "\$@"
exec ${BIN[strata]} "\$@"
SCRIPT
chmod 755 "${BIN[strata_unprivileged]}"
refused 1 strata_unprivileged -d locked history
chmod 755 locked/versions

say ""
say "## usage errors: one line, exit 2; an unknown command is named; --help is no error"
refused 2 strata upgrade --bogus
refused 2 strata
refused 2 strata history -r
refused 2 strata frob
refused 2 strata --bogus
refused 2 microblog_v3 db showmigrations extra
refused 2 microblog_v3 db revision
show_command strata upgrade --help
"${BIN[strata]}" upgrade --help > "$OUT" 2> "$ERR"
say "# exit $?, $(grep -c . "$OUT") lines of help on standard output, $(wc -l < "$ERR") on standard error"

say ""
say "## history ranges relative to the database read it, -i or not"
run microblog_v3 db downgrade -1
run strata history -r current:
run strata history -r -1:current
run strata history -r current: -i

say ""
say "## db redo: the last migration down and up again; a target the database is at is an error"
run microblog_v3 db redo
refused 1 strata redo current

say ""
say "## a history range given newer first is an error, not an empty list"
refused 1 strata history -r "$R3:$R1"

say ""
say "## Django's makemigrations --empty and --merge"
snapshot
refused 2 microblog_v3 db makemigrations --empty --merge
refused 2 microblog_v3 db makemigrations --empty --check
run microblog_v3 db makemigrations --merge  # one head: nothing to merge, as Django says
unchanged
run microblog_v3 db makemigrations --empty -m "fill by hand"
cp migrations/versions/*_fill_by_hand.yaml "$WORK/fill_by_hand.yaml"
say "# the new migration, to fill by hand:"
# (An id that reads as a number, all digits or like 12e4..., is written quoted: unquoted here.)
grep -v "^created:" "$WORK/fill_by_hand.yaml" |
  sed -E -e 's/^(revision|down_revision): "([^"]*)"$/\1: \2/' -e 's/^/    /' >> "$T"
# A second branch from the same parent, as another developer's work would make.
# Its id sorts before any generated one, so that heads and upgrades list the two in one order.
sed -e "s/^revision: .*/revision: 000000000001/" -e "s/^message: .*/message: other branch/" \
  "$WORK/fill_by_hand.yaml" > migrations/versions/000000000001_other_branch.yaml
run strata heads
run microblog_v3 db makemigrations --merge
run strata heads

say ""
say "## the standalone check has no models: it says it did not compare them"
run microblog_v3 db upgrade
run strata check
run microblog_v3 db check

say ""
say "## a failing upgrade of a new SQLite file leaves no file behind; an existing one is kept"
mkdir -p failing/versions
cat > failing/versions/aaaa00000002_broken.yaml << 'YAML'
revision: aaaa00000002
message: broken
upgrade:
  - execute: {sql: "CREATE TABLE broken ("}
downgrade:
  - execute: {sql: "DROP TABLE broken"}
YAML
refused 1 strata -d failing --url "sqlite:///$WORK/fresh.db" upgrade
say "# fresh.db left behind: $(test -e fresh.db && echo yes || echo no)"
: > existing.db
refused 1 strata -d failing --url "sqlite:///$WORK/existing.db" upgrade
say "# existing.db kept: $(test -e existing.db && echo yes || echo no)"

say ""
say "## a failed attempt shows in current until its migration applies, or its file is changed or"
say "## deleted: then current stops showing it and the next command that applies removes the row"
EXISTING="sqlite:///$WORK/existing.db"
run strata -d failing --url "$EXISTING" current
sed -i 's/CREATE TABLE broken (/CREATE TABLE broken (id INTEGER)/' failing/versions/aaaa00000002_broken.yaml
run strata -d failing --url "$EXISTING" current
rm failing/versions/aaaa00000002_broken.yaml
cat > failing/versions/aaaa00000003_fixed.yaml << 'YAML'
revision: aaaa00000003
message: fixed
upgrade:
  - execute: {sql: "CREATE TABLE fixed (id INTEGER)"}
downgrade:
  - execute: {sql: "DROP TABLE fixed"}
YAML
run strata -d failing --url "$EXISTING" current
run strata -d failing --url "$EXISTING" upgrade
say "# ledger: $(sqlite3 -batch existing.db "SELECT group_concat(revision || ' ' || status, ', ') FROM strata_migrations")"

say ""
say "## an execute marked irreversible, or one without reverse that an empty downgrade leaves"
say "## undone, stops a downgrade before anything runs; a downgrade written by hand runs"
mkdir -p oneway/versions
ONEWAY="sqlite:///$WORK/oneway.db"
cat > oneway/versions/aaaa00000007_notes.yaml << 'YAML'
revision: aaaa00000007
message: notes
upgrade:
  - execute: {sql: "CREATE TABLE note (body TEXT)"}
downgrade:
  - execute: {sql: "DROP TABLE note"}
YAML
cat > oneway/versions/aaaa00000008_seed.yaml << 'YAML'
revision: aaaa00000008
down_revision: aaaa00000007
message: seed
upgrade:
  - execute: {sql: "INSERT INTO note VALUES ('seed')", irreversible: true}
downgrade: []
YAML
cat > oneway/versions/aaaa00000009_more.yaml << 'YAML'
revision: aaaa00000009
down_revision: aaaa00000008
message: more
upgrade:
  - execute: {sql: "INSERT INTO note VALUES ('more')"}
downgrade: []
YAML
say "# the first of them named .yml, read as a .yaml file is"
mv oneway/versions/aaaa00000007_notes.yaml oneway/versions/aaaa00000007_notes.yml
run strata -d oneway --url "$ONEWAY" upgrade
refused 1 strata -d oneway --url "$ONEWAY" downgrade
refused 1 strata -d oneway --url "$ONEWAY" downgrade base
refused 1 strata -d oneway --url "$ONEWAY" downgrade --sql aaaa00000009:base
say "# notes: $(sqlite3 -batch oneway.db "SELECT group_concat(body, ' ') FROM note")"
cat > oneway/versions/aaaa00000009_more.yaml << 'YAML'
revision: aaaa00000009
down_revision: aaaa00000008
message: more
upgrade:
  - execute: {sql: "INSERT INTO note VALUES ('more')"}
downgrade:
  - execute: {sql: "DELETE FROM note WHERE body = 'more'"}
YAML
run strata -d oneway --url "$ONEWAY" stamp aaaa00000009
run strata -d oneway --url "$ONEWAY" downgrade
refused 1 strata -d oneway --url "$ONEWAY" migrate zero
run strata -d oneway --url "$ONEWAY" current
say "# notes: $(sqlite3 -batch oneway.db "SELECT group_concat(body, ' ') FROM note")"

say ""
say "## db lint fails on what a migration cannot undo until the file allows it; an unknown rule"
say "## is an error in the file"
refused 1 strata -d oneway --url "$ONEWAY" lint
sed -i 's/^message: seed$/message: seed\nlint_allow: [irreversble]/' oneway/versions/aaaa00000008_seed.yaml
refused 1 strata -d oneway --url "$ONEWAY" lint
sed -i 's/^lint_allow: .*/lint_allow: [irreversible]/' oneway/versions/aaaa00000008_seed.yaml
run strata -d oneway --url "$ONEWAY" lint
run strata -d oneway --url "$ONEWAY" upgrade
run strata -d oneway --url "$ONEWAY" lint --pending
refused 2 strata -d oneway --url "$ONEWAY" lint --pending -r base:heads
run strata lint -r "$R1:$R3"

say ""
say "## label@base un-applies that branch alone, here one with a base of its own (Alembic's)"
mkdir -p labelled/versions
LABELLED="sqlite:///$WORK/labelled.db"
cat > labelled/versions/aaaa00000004_main.yaml << 'YAML'
revision: aaaa00000004
message: main
upgrade: []
downgrade: []
YAML
cat > labelled/versions/aaaa00000005_audit.yaml << 'YAML'
revision: aaaa00000005
branch_labels: [audit]
message: audit
upgrade: []
downgrade: []
YAML
cat > labelled/versions/aaaa00000006_audit_more.yaml << 'YAML'
revision: aaaa00000006
down_revision: aaaa00000005
message: audit more
upgrade: []
downgrade: []
YAML
run strata -d labelled --url "$LABELLED" upgrade heads
say "# label@-1 counts down from the database's revision on that branch (aaaa00000005)"
run strata -d labelled --url "$LABELLED" show audit@-1
run strata -d labelled --url "$LABELLED" downgrade audit@base
run strata -d labelled --url "$LABELLED" current
run strata -d labelled --url "$LABELLED" downgrade audit@base

say ""
say "## atomic: false: each operation commits on its own; one that failed part way leaves the"
say "## database between revisions, refused until db stamp (a revision per head) says where it is"
mkdir -p loose/versions
LOOSE="sqlite:///$WORK/loose.db"
cat > loose/versions/aaaa00000010_item.yaml << 'YAML'
revision: aaaa00000010
message: item
upgrade:
  - create_table:
      name: item
      columns:
        - {name: id, type: Integer, primary_key: true, autoincrement: true, nullable: false}
        - {name: v, type: Integer}
      primary_key: {name: pk_item, columns: [id]}
downgrade:
  - drop_table:
      name: item
      columns:
        - {name: id, type: Integer, primary_key: true, autoincrement: true, nullable: false}
        - {name: v, type: Integer}
      primary_key: {name: pk_item, columns: [id]}
YAML
cat > loose/versions/aaaa00000011_other.yaml << 'YAML'
revision: aaaa00000011
message: other
branch_labels: [other]
upgrade: []
downgrade: []
YAML
cat > loose/versions/aaaa00000012_unique_v.yaml << 'YAML'
revision: aaaa00000012
down_revision: aaaa00000010
message: unique v
atomic: false
upgrade:
  - execute: {sql: "INSERT INTO item (v) VALUES (1), (1)", reverse: "DELETE FROM item"}
  - create_index: {table: item, name: uq_item_v, columns: [v], unique: true, concurrently: true}
downgrade:
  - drop_index: {table: item, name: uq_item_v, columns: [v], unique: true, concurrently: true}
  - execute: {sql: "DELETE FROM item", reverse: "INSERT INTO item (v) VALUES (1), (1)"}
YAML
run strata -d loose --url "$LOOSE" upgrade other@head
refused 1 strata -d loose --url "$LOOSE" upgrade heads
run strata -d loose --url "$LOOSE" current
refused 1 strata -d loose --url "$LOOSE" upgrade heads
say "# the rest by hand: one duplicate deleted, the index made"
sqlite3 -batch "$WORK/loose.db" "DELETE FROM item WHERE id = 2; CREATE UNIQUE INDEX uq_item_v ON item (v);"
run strata -d loose --url "$LOOSE" stamp aaaa00000011 aaaa00000012
run strata -d loose --url "$LOOSE" current
run strata -d loose --url "$LOOSE" show aaaa00000012
run strata -d loose --url "$LOOSE" upgrade --sql aaaa00000010:aaaa00000012
refused 1 strata -d loose squash aaaa00000012

say ""
say "## squash: one migration in place of a chain; a database at its end goes on, a new one"
say "## runs the squashed migration alone, and the chain's files may go"
mkdir -p sq/versions
cp loose/versions/aaaa00000010_item.yaml sq/versions/
cat > sq/versions/aaaa00000013_note.yaml << 'YAML'
revision: aaaa00000013
down_revision: aaaa00000010
message: note
upgrade:
  - add_column: {table: item, column: {name: note, type: Text, nullable: true}}
  - execute: {sql: "UPDATE item SET note = 'n'", reverse: "UPDATE item SET note = NULL"}
  - create_index: {table: item, name: ix_item_v, columns: [v], unique: false}
downgrade:
  - drop_index: {table: item, name: ix_item_v, columns: [v], unique: false}
  - execute: {sql: "UPDATE item SET note = NULL", reverse: "UPDATE item SET note = 'n'"}
  - drop_column: {table: item, column: {name: note, type: Text, nullable: true}}
YAML
cat > sq/versions/aaaa00000014_remark.yaml << 'YAML'
revision: aaaa00000014
down_revision: aaaa00000013
message: remark
upgrade:
  - rename_column: {table: item, old_name: note, new_name: remark}
downgrade:
  - rename_column: {table: item, old_name: remark, new_name: note}
YAML
cat > sq/versions/aaaa00000015_after.yaml << 'YAML'
revision: aaaa00000015
down_revision: aaaa00000014
message: after
upgrade:
  - add_column: {table: item, column: {name: w, type: Integer, nullable: true}}
downgrade:
  - drop_column: {table: item, column: {name: w, type: Integer, nullable: true}}
YAML
OLD="sqlite:///$WORK/sq_old.db"
NEW="sqlite:///$WORK/sq_new.db"
run strata -d sq --url "$OLD" upgrade aaaa00000014
refused 1 strata -d sq squash aaaa00000014 aaaa00000010
refused 2 strata -d sq squash a b c
run strata -d sq squash aaaa00000014 -m "item squashed"
SQ=$(generated)
run strata -d sq history
run strata -d sq show "$SQ"
run strata -d sq --url "$OLD" history -i
run strata -d sq --url "$OLD" upgrade
run strata -d sq --url "$NEW" upgrade
say "# the chain's files deleted"
rm sq/versions/aaaa0000001[034]_*.yaml
run strata -d sq --url "$NEW" downgrade base
run strata -d sq --url "$NEW" upgrade
run strata -d sq --url "$OLD" current
refused 1 strata -d sq squash heads
e2e_finish
