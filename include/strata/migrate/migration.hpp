// One migration: its place in the revision graph and its upgrade and downgrade operations,
// as read from or written to a migration file (see file.hpp and docs/migrations.md).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "strata/migrate/ops.hpp"

namespace strata::migrate {

// The rules of `db lint`, by the names a migration's `lint_allow` gives them: an operation that
// loses data (destructive), one that may fail on rows already in the table (risky), a table
// rebuilt or rewritten (rebuild: SQLite's missing ALTER forms, PostgreSQL's type changes that
// rewrite the table), an index built or dropped under a lock that blocks the table's writes
// where the dialect has a way that does not (locking: PostgreSQL without CONCURRENTLY), a
// migration `db downgrade` cannot undo (irreversible).
inline constexpr std::array<std::string_view, 5> lint_rules = {"destructive", "risky", "rebuild",
                                                                "locking", "irreversible"};

struct Migration {
  std::string revision;                     // [A-Za-z0-9_]+; generated ones: 12 hex digits
  std::vector<std::string> down_revisions;  // parents: none for a base, two or more for a merge
  std::vector<std::string> branch_labels;
  std::string message;
  std::string created;                      // ISO 8601 UTC, informational
  std::vector<Operation> upgrade;
  std::vector<Operation> downgrade;         // normally reverse(upgrade); editable by hand
  // The `db lint` rules (lint_rules) whose findings in this migration its author means: they
  // are reported as allowed and do not fail the lint. Not part of the checksum: adding one to
  // an applied migration does not make it an edited file.
  std::vector<std::string> lint_allow;
  // false (`atomic: false`, Django's name): the migration runs outside a transaction, for what
  // cannot run inside one (CREATE INDEX CONCURRENTLY, VACUUM) or should commit as it goes (a
  // data migration in batches). Each schema operation then commits on its own; execute and
  // call run with no transaction open. A failure keeps the operations before it.
  bool atomic = true;
  // For a migration `db squash` wrote: the revisions it stands for, oldest first (Django's
  // `replaces`). A database that applied all of them has applied this one; one that applied
  // none runs this one; one that applied some runs the rest of them, from their files. A
  // migration whose down_revision names the last of them comes after this one. It stays in
  // the file after their files are gone: ledgers name them.
  std::vector<std::string> replaces;
  std::string path;                         // the file it was read from, if any
  friend bool operator==(const Migration& a, const Migration& b) {
    return a.revision == b.revision && a.down_revisions == b.down_revisions &&
           a.branch_labels == b.branch_labels && a.message == b.message &&
           a.created == b.created && a.upgrade == b.upgrade && a.downgrade == b.downgrade &&
           a.lint_allow == b.lint_allow && a.atomic == b.atomic &&
           a.replaces == b.replaces;
  }
};

}  // namespace strata::migrate
