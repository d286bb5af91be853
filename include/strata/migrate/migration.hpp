// One migration: its place in the revision graph and its upgrade and downgrade operations,
// as read from or written to a migration file (see file.hpp and docs/migrations.md).
#pragma once

#include <string>
#include <vector>

#include "strata/migrate/ops.hpp"

namespace strata::migrate {

struct Migration {
  std::string revision;                     // [A-Za-z0-9_]+; generated ones: 12 hex digits
  std::vector<std::string> down_revisions;  // parents: none for a base, two or more for a merge
  std::vector<std::string> branch_labels;
  std::string message;
  std::string created;                      // ISO 8601 UTC, informational
  std::vector<Operation> upgrade;
  std::vector<Operation> downgrade;         // normally reverse(upgrade); editable by hand
  std::string path;                         // the file it was read from, if any
  friend bool operator==(const Migration& a, const Migration& b) {
    return a.revision == b.revision && a.down_revisions == b.down_revisions &&
           a.branch_labels == b.branch_labels && a.message == b.message &&
           a.created == b.created && a.upgrade == b.upgrade && a.downgrade == b.downgrade;
  }
};

}  // namespace strata::migrate
