// The revision graph: which migration comes after which, and how to get from the revisions a
// database has applied to the ones a user asks for. Pure (no files, no database): the command
// layer builds it from the migration files, passes in the ledger's rows, and runs the lists
// it gets back. Modelled on Alembic's alembic/script/revision.py; errors come from errors.hpp.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::migrate {

// One node of the graph, as read from a migration file (see Migration in migration.hpp).
struct Revision {
  std::string id;                           // e.g. "3f2a9c1b7d4e"
  std::vector<std::string> down_revisions;  // parents: none for a base, two or more for a merge
  std::vector<std::string> branch_labels;   // names for the branch that starts here
  std::string message;
};

// Which way `migrate TARGET` (Django's command) has to move.
enum class Direction { none, upgrade, downgrade };

// The revisions to run, in the order to run them (upgrade: parents first; downgrade: children
// first). Direction::none when the target is already reached.
struct Plan {
  Direction direction = Direction::none;
  std::vector<std::string> revisions;
};

// Vocabulary shared by every function below:
//  - A *target* is a list of revision ids as returned by resolve(); the empty list is "base"
//    (nothing applied).
//  - *applied* is every revision the ledger records as applied (one row per revision). It must
//    be closed under down_revisions; a revision recorded without its parent is a RevisionError
//    naming both (repair with `db stamp`).
//  - Lists of ids come in topological order (see topological_order()), or its reverse where
//    said.
class RevisionGraph {
 public:
  RevisionGraph() = default;  // no revisions yet: head and base are the same
  // Throws RevisionError, naming the revision and the remedy, on: an empty, reserved ("head",
  // "heads", "base", "current", "zero") or ill-formed id (only letters, digits, '_', '.' and
  // '-' are allowed, and '-' not first, so specs like "ID@X", "A:B" and "-1" parse); a
  // duplicate id; a down_revision that does not exist, is the revision itself or is listed
  // twice; a cycle; a branch label that is ill-formed, reserved, equal to an id or used twice.
  explicit RevisionGraph(std::vector<Revision> revisions);

  // nullptr when no revision has exactly this id (prefixes are resolve()'s business).
  const Revision* find(std::string_view id) const;
  // The revision carrying this branch label, or nullptr.
  const Revision* find_label(std::string_view label) const;
  // Every revision, in topological order.
  const std::vector<Revision>& revisions() const noexcept { return revisions_; }
  std::size_t size() const noexcept { return revisions_.size(); }
  bool empty() const noexcept { return revisions_.empty(); }

  // Every id from bases to heads, each after all its down_revisions (`showmigrations`,
  // `db history`). Deterministic whatever order the constructor got: a depth-first walk that
  // finishes a branch before starting the next, taking ready revisions in ascending id order
  // (bases first by id; at a branch point, the child with the smallest id first).
  const std::vector<std::string>& topological_order() const noexcept { return order_; }

  std::vector<std::string> heads() const;          // revisions with no children
  std::vector<std::string> bases() const;          // revisions with no down_revisions
  std::vector<std::string> branch_points() const;  // revisions with two or more children
  std::vector<std::string> merge_points() const;   // revisions with two or more down_revisions
  // The revisions naming `id` as a down_revision. Throws UnknownRevisionError.
  std::vector<std::string> children(std::string_view id) const;
  // Every revision below / above `id`, without `id` itself. Throw UnknownRevisionError.
  std::vector<std::string> ancestors(std::string_view id) const;
  std::vector<std::string> descendants(std::string_view id) const;

  // A user's revision spec to a target. `current` is what the ledger holds (every applied
  // revision, or just its heads: only its heads are used). Accepted specs:
  //   "base" (also Django's "zero"): the empty target;  "heads": every head;
  //   "head": the single head (MultipleHeadsError when there are several; an empty graph
  //   gives base);  "current": the applied heads;
  //   a full id, or any unique prefix of one (AmbiguousRevisionError lists the candidates);
  //   a branch label, or "label@head": the head of that branch (the labelled revision and its
  //   descendants; MultipleHeadsError when the branch has forked);  "label@ID": ID (a prefix
  //   is looked up among the branch's revisions only);
  //   "+N" / "-N": N revisions up / down from the single applied head;
  //   "SPEC+N" / "SPEC-N": relative to any spec above that names one revision (or base);
  //   "label@+N" / "label@-N": relative to the applied head of that branch (up from below
  //   the branch enters it at the labelled revision; down cannot leave the branch);
  //   "label@base": the applied heads once the branch (the labelled revision and its
  //   descendants) is un-applied — to un-apply it, see branch_base_path().
  // Moving down from a merge gives all its down_revisions (so "-1" un-applies just the
  // merge); moving on through them, or up from a branch point, is an AmbiguousRevisionError
  // listing the choices. Past a head, below base, or down to base in a graph with several
  // bases (which would un-apply the other bases' branches too) is a RevisionError that says
  // how far one can go. Anything else is an UnknownRevisionError: "unknown revision 'zzz'".
  std::vector<std::string> resolve(std::string_view spec,
                                   const std::vector<std::string>& current) const;
  // resolve(), for commands that need exactly one revision (`db show`): base and several
  // heads are RevisionErrors.
  std::string resolve_one(std::string_view spec, const std::vector<std::string>& current) const;

  // The revisions to apply to go from `applied` to `targets`: every ancestor-or-self of a
  // target not yet applied, in topological order (a merge after both its branches). Throws
  // RevisionError when a target is below an applied revision (that is a downgrade).
  std::vector<std::string> upgrade_path(const std::vector<std::string>& applied,
                                        const std::vector<std::string>& targets) const;
  // The revisions to un-apply to go down to `targets` (empty = base), children first: every
  // applied revision that descends from a target and is not itself an ancestor-or-self of
  // one. Branches that do not grow out of the targets are left alone, as Alembic and Django
  // do: from a merge M of branches A and B, going down to A's tip un-applies M only. Throws
  // RevisionError when a target is not applied (that is an upgrade).
  std::vector<std::string> downgrade_path(const std::vector<std::string>& applied,
                                          const std::vector<std::string>& targets) const;
  // Alembic's `downgrade label@base`: when spec is "label@base", the applied revisions of that
  // branch (the labelled revision and its descendants), children first — what un-applies the
  // branch alone, whether it grows out of another or has a base of its own (which no target
  // given to downgrade_path() can say); nullopt for any other spec. Throws
  // UnknownRevisionError for an unknown label.
  std::optional<std::vector<std::string>> branch_base_path(
      std::string_view spec, const std::vector<std::string>& applied) const;
  // Django's `migrate TARGET|zero`: upgrade to targets not yet applied, downgrade to applied
  // ones, nothing when already there. Targets needing both directions at once are a
  // RevisionError (migrate to them one at a time).
  Plan plan_to(const std::vector<std::string>& applied,
               const std::vector<std::string>& targets) const;

  // `db history -r LOWER:UPPER`: the revisions that are ancestors-or-self of an upper target
  // and descendants-or-self of a lower one (every revision when lower is base), newest
  // first (reverse topological order). An empty upper (base) gives nothing. A lower revision
  // that is not an ancestor-or-self of an upper one (a range given newer first) is a
  // RevisionError.
  std::vector<std::string> history(const std::vector<std::string>& lower,
                                   const std::vector<std::string>& upper) const;
  // The same from the command-line text "LOWER:UPPER", either side a spec for resolve() and
  // either may be empty (lower defaults to base, upper to heads); "" is the whole graph.
  std::vector<std::string> history(std::string_view range,
                                   const std::vector<std::string>& current) const;

 private:
  using Index = std::size_t;
  using Set = std::vector<Index>;  // indices into revisions_, ascending (topological order)
  enum class Source { target, current, ledger };  // where ids come from, for error messages

  Index require(std::string_view id) const;
  // ids of the revisions with between min and max links (parents_ or children_).
  std::vector<std::string> select(const std::vector<Set>& links, std::size_t min,
                                  std::size_t max) const;
  std::vector<std::string> relatives(std::string_view id, bool up) const;  // without id
  Set closure(const Set& from, bool up) const;  // from and everything below (or above) it
  Set index_set(const std::vector<std::string>& ids, Source source) const;
  Set heads_of(const Set& set) const;  // members with no child in the set
  Set branch_members(Index labelled) const;
  Set branch_heads(std::string_view label, Index labelled) const;
  Set resolve_set(std::string_view spec, const Set& current) const;
  Set resolve_at(std::string_view label, std::string_view rest, const Set& current) const;
  Set resolve_prefix(std::string_view spec, const Set* among) const;
  // A move of `from`, one of several current heads, to `moved`: the others stay current.
  Set keep_other_heads(std::string_view spec, Index from, const Set& moved,
                       const Set& current) const;
  // The current heads but `from`.
  Set current_except(const Set& current, Index from) const;
  // n revisions up (n > 0) or down from start; `label` / `labelled` confine a down move to
  // a branch (labelled == npos: no branch).
  Set step(std::string_view spec, const Set& start, long long n, std::string_view label,
           Index labelled) const;
  std::vector<std::string> ids(const Set& set) const;
  Set missing(const Set& applied, const Set& targets) const;
  Set above(const Set& applied, const Set& targets) const;

  std::vector<Revision> revisions_;      // in topological order
  std::vector<std::string> order_;       // revisions_[i].id
  std::vector<Set> parents_, children_;  // ascending, per revision
  Set roots_;                            // the bases
  std::map<std::string, Index, std::less<>> by_id_;
  std::map<std::string, Index, std::less<>> by_label_;  // label -> the revision it names
};

// Whether resolve() reads `current` (the database's revisions) for this spec, or for either
// side of a history range "LOWER:UPPER": "current", "current+N", "+N" / "-N", "label@+N",
// "label@base". The commands read the ledger only when it does (or when asked to mark the
// current revision).
bool uses_current(std::string_view spec_or_range);
// For the commands that work on the files alone (sqlmigrate, merge, squash): throws a
// CommandError naming `command` when spec counts from the database's revisions
// (uses_current(), but label@base, which the files answer).
void refuse_relative_to_database(std::string_view spec, std::string_view command);

// A fresh revision id: 12 random lower-case hex digits (from std::random_device), never one
// that `existing` already uses as an id or a branch label.
std::string new_revision_id(const RevisionGraph& existing);

}  // namespace strata::migrate
