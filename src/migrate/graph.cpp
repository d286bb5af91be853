// The revision graph: validation and topological order when built, then spec resolution and
// upgrade / downgrade paths as set operations over indices in topological order.
#include "strata/migrate/graph.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <random>
#include <utility>

#include "strata/migrate/errors.hpp"

namespace strata::migrate {
namespace {

constexpr std::array<std::string_view, 5> kReserved = {"head", "heads", "base", "current", "zero"};
constexpr std::size_t kNone = static_cast<std::size_t>(-1);

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string target_text(const std::vector<std::string>& targets) {
  return targets.empty() ? "base" : join(targets);
}

std::string revisions_word(long long n) {
  return std::to_string(n) + (n == 1 ? " revision" : " revisions");
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// `what` is "revision id" or "branch label"; `owner` names where the bad name was found.
void check_name(const std::string& name, std::string_view what, const std::string& owner) {
  if (name.empty()) throw RevisionError(owner + " has an empty " + std::string(what));
  if (std::find(kReserved.begin(), kReserved.end(), name) != kReserved.end()) {
    throw RevisionError(std::string(what) + " " + quoted(name) + " of " + owner +
                        " is reserved (head, heads, base, current, zero); choose another");
  }
  if (name.front() == '-' || !std::all_of(name.begin(), name.end(), name_char)) {
    throw RevisionError(std::string(what) + " " + quoted(name) + " of " + owner +
                        " may contain only letters, digits, '_', '.' and '-' (not first)");
  }
}

// "+3" / "-12" at the end of spec: returns the position of the sign, or npos.
std::size_t relative_suffix(std::string_view spec) {
  const auto sign = spec.find_last_of("+-");
  if (sign == std::string_view::npos || sign + 1 == spec.size()) return std::string_view::npos;
  const auto digits = spec.substr(sign + 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::string_view::npos;
  }
  return sign;
}

long long relative_count(std::string_view spec, std::size_t sign) {
  long long n = 0;
  const auto digits = spec.substr(sign + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    throw RevisionError("relative move " + quoted(spec) + " is too large");
  }
  if (n == 0) throw RevisionError(quoted(spec) + " moves nowhere; use a count of at least 1");
  return spec[sign] == '-' ? -n : n;
}

bool contains(const std::vector<std::size_t>& sorted, std::size_t i) {
  return std::binary_search(sorted.begin(), sorted.end(), i);
}

}  // namespace

RevisionGraph::RevisionGraph(std::vector<Revision> input) {
  const std::size_t n = input.size();
  std::map<std::string, Index, std::less<>> position;  // id -> index in input
  for (Index i = 0; i < n; ++i) {
    const auto& id = input[i].id;
    check_name(id, "revision id", id.empty() ? "a revision" : "revision " + quoted(id));
    if (!position.emplace(id, i).second) {
      throw RevisionError("two migrations have revision id " + quoted(id) +
                          "; give one of them a new id");
    }
  }
  std::vector<std::vector<Index>> parents(n), children(n);
  for (Index i = 0; i < n; ++i) {
    const auto& rev = input[i];
    for (const auto& down : rev.down_revisions) {
      const auto it = position.find(down);
      if (down == rev.id) {
        throw RevisionError("revision " + quoted(rev.id) + " names itself as down_revision");
      }
      if (it == position.end()) {
        throw RevisionError("revision " + quoted(rev.id) + " names down_revision " + quoted(down) +
                            ", which does not exist");
      }
      if (std::find(parents[i].begin(), parents[i].end(), it->second) != parents[i].end()) {
        throw RevisionError("revision " + quoted(rev.id) + " lists down_revision " + quoted(down) +
                            " twice");
      }
      parents[i].push_back(it->second);
      children[it->second].push_back(i);
    }
  }
  std::map<std::string, Index, std::less<>> label_position;
  for (Index i = 0; i < n; ++i) {
    const auto owner = "revision " + quoted(input[i].id);
    for (const auto& label : input[i].branch_labels) {
      check_name(label, "branch label", owner);
      if (position.contains(label)) {
        throw RevisionError("branch label " + quoted(label) + " of " + owner +
                            " is also a revision id; rename the label");
      }
      const auto [it, fresh] = label_position.emplace(label, i);
      if (!fresh) {
        throw RevisionError("branch label " + quoted(label) + " is used by both revision " +
                            quoted(input[it->second].id) + " and " + owner + "; rename one");
      }
    }
  }

  // Kahn's algorithm with a stack: the revision made ready last is taken next, so a branch is
  // finished before the next starts; ready revisions are pushed in descending id order so the
  // smallest id is taken first.
  const auto by_id_descending = [&](Index a, Index b) { return input[a].id > input[b].id; };
  std::vector<std::size_t> waiting(n);  // parents not yet placed
  std::vector<Index> stack, order;
  for (Index i = 0; i < n; ++i) {
    waiting[i] = parents[i].size();
    if (waiting[i] == 0) stack.push_back(i);
    std::sort(children[i].begin(), children[i].end(), by_id_descending);
  }
  std::sort(stack.begin(), stack.end(), by_id_descending);
  while (!stack.empty()) {
    const Index i = stack.back();
    stack.pop_back();
    order.push_back(i);
    for (const Index child : children[i]) {
      if (--waiting[child] == 0) stack.push_back(child);
    }
  }
  if (order.size() != n) {
    // Every revision left waits for a parent that is also left: walking parents must loop.
    Index start = kNone;
    for (Index i = 0; i < n; ++i) {
      if (waiting[i] > 0 && (start == kNone || input[i].id < input[start].id)) start = i;
    }
    std::vector<Index> walk;
    Index at = start;
    while (std::find(walk.begin(), walk.end(), at) == walk.end()) {
      walk.push_back(at);
      for (const Index p : parents[at]) {
        if (waiting[p] > 0) {
          at = p;
          break;
        }
      }
    }
    std::string path;
    for (auto it = std::find(walk.begin(), walk.end(), at); it != walk.end(); ++it) {
      path += input[*it].id + " -> ";
    }
    throw RevisionError("down_revisions form a cycle: " + path + input[at].id +
                        "; one of them must name an earlier revision");
  }

  std::vector<Index> index_of(n);  // input position -> topological index
  for (Index k = 0; k < n; ++k) index_of[order[k]] = k;
  parents_.resize(n);
  children_.resize(n);
  for (Index k = 0; k < n; ++k) {
    for (const Index p : parents[order[k]]) parents_[k].push_back(index_of[p]);
    for (const Index c : children[order[k]]) children_[k].push_back(index_of[c]);
    std::sort(parents_[k].begin(), parents_[k].end());
    std::sort(children_[k].begin(), children_[k].end());
  }
  revisions_.reserve(n);
  for (Index k = 0; k < n; ++k) {
    revisions_.push_back(std::move(input[order[k]]));
    order_.push_back(revisions_.back().id);
    by_id_.emplace(revisions_.back().id, k);
    if (parents_[k].empty()) roots_.push_back(k);
  }
  for (const auto& [label, i] : label_position) by_label_.emplace(label, index_of[i]);
}

const Revision* RevisionGraph::find(std::string_view id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &revisions_[it->second];
}

const Revision* RevisionGraph::find_label(std::string_view label) const {
  const auto it = by_label_.find(label);
  return it == by_label_.end() ? nullptr : &revisions_[it->second];
}

std::vector<std::string> RevisionGraph::heads() const { return select(children_, 0, 0); }
std::vector<std::string> RevisionGraph::bases() const { return select(parents_, 0, 0); }
std::vector<std::string> RevisionGraph::branch_points() const {
  return select(children_, 2, kNone);
}
std::vector<std::string> RevisionGraph::merge_points() const { return select(parents_, 2, kNone); }

std::vector<std::string> RevisionGraph::select(const std::vector<Set>& links, std::size_t min,
                                               std::size_t max) const {
  std::vector<std::string> out;
  for (Index i = 0; i < size(); ++i) {
    if (links[i].size() >= min && links[i].size() <= max) out.push_back(order_[i]);
  }
  return out;
}

std::vector<std::string> RevisionGraph::children(std::string_view id) const {
  return ids(children_[require(id)]);
}

std::vector<std::string> RevisionGraph::ancestors(std::string_view id) const {
  return relatives(id, false);
}

std::vector<std::string> RevisionGraph::descendants(std::string_view id) const {
  return relatives(id, true);
}

std::vector<std::string> RevisionGraph::relatives(std::string_view id, bool up) const {
  const Index i = require(id);
  auto set = closure({i}, up);
  set.erase(std::find(set.begin(), set.end(), i));
  return ids(set);
}

RevisionGraph::Index RevisionGraph::require(std::string_view id) const {
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    throw UnknownRevisionError("unknown revision " + quoted(id), std::string(id));
  }
  return it->second;
}

RevisionGraph::Set RevisionGraph::closure(const Set& from, bool up) const {
  std::vector<bool> seen(size());
  std::vector<Index> todo(from.begin(), from.end());
  while (!todo.empty()) {
    const Index i = todo.back();
    todo.pop_back();
    if (seen[i]) continue;
    seen[i] = true;
    for (const Index next : up ? children_[i] : parents_[i]) todo.push_back(next);
  }
  Set out;
  for (Index i = 0; i < size(); ++i) {
    if (seen[i]) out.push_back(i);
  }
  return out;
}

RevisionGraph::Set RevisionGraph::index_set(const std::vector<std::string>& list,
                                            Source source) const {
  Set out;
  for (const auto& id : list) {
    const auto it = by_id_.find(id);
    if (it == by_id_.end() && source != Source::target) {
      throw UnknownRevisionError("revision " + quoted(id) +
                                     " is recorded as applied but no migration has that id; "
                                     "restore its file or repair the ledger with `db stamp`",
                                 id);
    }
    out.push_back(it == by_id_.end() ? require(id) : it->second);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (source == Source::ledger) {
    for (const Index i : out) {
      for (const Index p : parents_[i]) {
        if (!contains(out, p)) {
          throw RevisionError("revision " + quoted(order_[i]) +
                              " is recorded as applied but its down_revision " + quoted(order_[p]) +
                              " is not; repair the ledger with `db stamp`");
        }
      }
    }
  }
  return out;
}

RevisionGraph::Set RevisionGraph::heads_of(const Set& set) const {
  Set out;
  for (const Index i : set) {
    const auto& kids = children_[i];
    if (std::none_of(kids.begin(), kids.end(), [&](Index c) { return contains(set, c); })) {
      out.push_back(i);
    }
  }
  return out;
}

RevisionGraph::Set RevisionGraph::branch_members(Index labelled) const {
  return closure({labelled}, true);
}

RevisionGraph::Set RevisionGraph::branch_heads(std::string_view label, Index labelled) const {
  auto tips = heads_of(branch_members(labelled));
  if (tips.size() > 1) {
    throw MultipleHeadsError("branch " + quoted(label) + " has multiple heads: " + join(ids(tips)) +
                                 "; run `db merge` or name a revision",
                             ids(tips));
  }
  return tips;
}

std::vector<std::string> RevisionGraph::resolve(std::string_view spec,
                                                const std::vector<std::string>& current) const {
  if (spec.empty()) {
    throw UnknownRevisionError("no revision given; name one, or head, heads or base", "");
  }
  return ids(resolve_set(spec, heads_of(index_set(current, Source::current))));
}

std::string RevisionGraph::resolve_one(std::string_view spec,
                                       const std::vector<std::string>& current) const {
  auto found = resolve(spec, current);
  if (found.empty()) {
    throw RevisionError(quoted(spec) + " means base, which is not a revision; name one");
  }
  if (found.size() > 1) {
    throw AmbiguousRevisionError(
        quoted(spec) + " names several revisions: " + join(found) + "; name one", std::string(spec),
        found);
  }
  return found.front();
}

RevisionGraph::Set RevisionGraph::resolve_set(std::string_view spec, const Set& current) const {
  if (spec == "base" || spec == "zero") return {};
  if (spec == "current") return current;
  if (spec == "heads" || spec == "head") {
    Set all(size());
    for (Index i = 0; i < size(); ++i) all[i] = i;
    auto tips = heads_of(all);
    if (spec == "head" && tips.size() > 1) {
      throw MultipleHeadsError(
          "multiple heads: " + join(ids(tips)) + "; run `db merge heads` or name a revision",
          ids(tips));
    }
    return tips;
  }
  if (const auto it = by_id_.find(spec); it != by_id_.end()) return {it->second};
  if (const auto it = by_label_.find(spec); it != by_label_.end()) {
    return branch_heads(spec, it->second);
  }
  if (const auto at = spec.find('@'); at != std::string_view::npos) {
    return resolve_at(spec.substr(0, at), spec.substr(at + 1), current);
  }
  if (const auto sign = relative_suffix(spec); sign != std::string_view::npos) {
    const long long n = relative_count(spec, sign);
    if (sign == 0) {
      if (current.size() > 1) {
        throw MultipleHeadsError("several revisions are current: " + join(ids(current)) +
                                     "; say which to move from, e.g. `" + order_[current[0]] +
                                     std::string(spec) + "`",
                                 ids(current));
      }
      // From the one current head (or none): whatever is applied lies below it, so reaching
      // base un-applies that branch alone, however many bases the graph has.
      return step(spec, current, n, {}, kNone);
    }
    const auto origin = resolve_set(spec.substr(0, sign), current);
    if (origin.size() > 1) {
      throw AmbiguousRevisionError(quoted(spec.substr(0, sign)) + " names several revisions: " +
                                       join(ids(origin)) + "; a relative move needs one",
                                   std::string(spec), ids(origin));
    }
    auto moved = step(spec, origin, n, {}, kNone);
    if (origin.size() == 1 && current.size() > 1 && contains(current, origin[0])) {
      // Base, as a target, un-applies every branch: the other heads, kept, cannot say "this
      // branch's base". A label on the branch's first revision can (label@base).
      if (moved.empty()) {
        std::string way = "give its first revision a branch label (branch_labels: [name]) and "
                          "run `db downgrade name@base`";
        const auto below = closure({origin[0]}, false);
        for (const auto& [name, labelled] : by_label_)
          if (parents_[labelled].empty() && contains(below, labelled))
            way = "run `db downgrade " + name + "@base`";
        throw RevisionError("cannot move " + order_[origin[0]] + " down as " + quoted(spec) +
                            " to base while " + join(ids(current_except(current, origin[0]))) +
                            " stays current (base un-applies every branch); to un-apply this "
                            "branch alone, " + way);
      }
      return keep_other_heads(spec, origin[0], moved, current);
    }
    // Base, from a revision that is not the one current head: with several bases it would
    // un-apply branches the move does not name (or mean nothing when the revision is not
    // applied).
    if (moved.empty() && n < 0 && roots_.size() > 1 && current != origin) {
      throw RevisionError("cannot move " + revisions_word(-n) + " down from " +
                          join(ids(origin)) + ": that reaches base, and there are several bases (" +
                          join(ids(roots_)) + "); use `base` to un-apply everything, or name a " +
                          "revision");
    }
    return moved;
  }
  return resolve_prefix(spec, nullptr);
}

RevisionGraph::Set RevisionGraph::current_except(const Set& current, Index from) const {
  Set out;
  for (const Index i : current)
    if (i != from) out.push_back(i);
  return out;
}

RevisionGraph::Set RevisionGraph::keep_other_heads(std::string_view spec, Index from,
                                                   const Set& moved, const Set& current) const {
  // `A-1` with A and B current moves A: B and what it stands on stay. A move down that would
  // undo a revision B stands on is refused rather than taking B's branch with it.
  Set out = current_except(current, from);
  const auto needed = closure(out, false);
  for (const Index i : above(closure({from}, false), moved)) {
    if (contains(needed, i)) {
      throw RevisionError("cannot move " + order_[from] + " down as " + quoted(spec) + ": " +
                          order_[i] + " is below " + join(ids(out)) +
                          " too, which stays current; downgrade to a revision named outright, "
                          "which undoes every revision above it");
    }
  }
  out.insert(out.end(), moved.begin(), moved.end());
  return out;
}

RevisionGraph::Set RevisionGraph::resolve_at(std::string_view label, std::string_view rest,
                                             const Set& current) const {
  const auto it = by_label_.find(label);
  if (it == by_label_.end()) {
    throw UnknownRevisionError("unknown branch label " + quoted(label), std::string(label));
  }
  const Index labelled = it->second;
  const std::string spec = std::string(label) + "@" + std::string(rest);
  if (rest == "head") return branch_heads(label, labelled);
  // Alembic's label@heads (every head of the branch) and label@head-N (counted from its head).
  if (rest == "heads") return heads_of(branch_members(labelled));
  if (rest.starts_with("head") && relative_suffix(rest) == 4)
    return step(spec, branch_heads(label, labelled), relative_count(rest, 4), label, labelled);
  if (rest == "base") {
    const auto members = branch_members(labelled);
    Set kept;
    for (const Index i : closure(current, false)) {
      if (!contains(members, i)) kept.push_back(i);
    }
    return heads_of(kept);
  }
  const auto members = branch_members(labelled);
  if (const auto sign = relative_suffix(rest); sign == 0) {
    const long long n = relative_count(rest, sign);
    Set on;
    for (const Index i : current) {
      if (contains(members, i)) on.push_back(i);
    }
    if (on.size() > 1) {
      throw MultipleHeadsError("branch " + quoted(label) + " has several applied heads: " +
                                   join(ids(on)) + "; name a revision",
                               ids(on));
    }
    if (on.empty() && n < 0) {
      throw RevisionError("cannot move down branch " + quoted(label) +
                          ": none of its revisions is applied");
    }
    if (on.empty()) return step(spec, {labelled}, n - 1, label, labelled);
    return step(spec, on, n, label, labelled);
  }
  if (const auto exact = by_id_.find(rest);
      exact != by_id_.end() && !contains(members, exact->second)) {
    throw RevisionError("revision " + quoted(rest) + " is not on branch " + quoted(label));
  }
  return resolve_prefix(rest, &members);
}

RevisionGraph::Set RevisionGraph::resolve_prefix(std::string_view spec, const Set* among) const {
  const auto in_scope = [&](Index i) { return among == nullptr || contains(*among, i); };
  if (const auto it = by_id_.find(spec); it != by_id_.end() && in_scope(it->second)) {
    return {it->second};
  }
  Set found;
  for (auto it = by_id_.lower_bound(spec); it != by_id_.end() && it->first.starts_with(spec);
       ++it) {
    if (in_scope(it->second)) found.push_back(it->second);
  }
  if (found.empty()) {
    throw UnknownRevisionError("unknown revision " + quoted(spec), std::string(spec));
  }
  if (found.size() > 1) {
    std::vector<std::string> candidates;
    for (const Index i : found) candidates.push_back(order_[i]);  // by_id_ order: sorted
    throw AmbiguousRevisionError("ambiguous revision " + quoted(spec) + ": " + join(candidates),
                                 std::string(spec), candidates);
  }
  return found;
}

RevisionGraph::Set RevisionGraph::step(std::string_view spec, const Set& start, long long n,
                                       std::string_view label, Index labelled) const {
  const bool up = n > 0;
  const long long count = up ? n : -n;
  const std::string origin = start.empty() ? "base" : join(ids(start));
  const std::string moving = "cannot move " + revisions_word(count) + (up ? " up" : " down");
  Set at = start;
  for (long long done = 0; done < count; ++done) {
    if (at.size() > 1) {
      throw AmbiguousRevisionError("cannot move further down than " + join(ids(at)) +
                                       " (the down_revisions of a merge) in " + quoted(spec) +
                                       "; name one of them",
                                   std::string(spec), ids(at));
    }
    if (up) {
      Set next = at.empty() ? roots_ : children_[at[0]];
      if (next.empty()) {
        if (done == 0) throw RevisionError(moving + " from " + origin + ": it is a head");
        throw RevisionError(moving + " from " + origin + ": only " + std::to_string(done) +
                            " more");
      }
      if (next.size() > 1) {
        throw AmbiguousRevisionError("cannot move up from " +
                                         (at.empty() ? "base" : quoted(order_[at[0]])) +
                                         ": it branches into " + join(ids(next)) + "; name one",
                                     std::string(spec), ids(next));
      }
      at = std::move(next);
      continue;
    }
    if (at.empty()) {
      if (done == 0) throw RevisionError(moving + " from base: nothing is below it");
      throw RevisionError(moving + " from " + origin + ": only " + std::to_string(done) +
                          " to base");
    }
    if (at[0] == labelled) {
      throw RevisionError(moving + " on branch " + quoted(label) + " from " + origin + ": only " +
                          std::to_string(done) + " on the branch; name the revision to go down to");
    }
    at = Set(parents_[at[0]]);
  }
  return at;
}

std::vector<std::string> RevisionGraph::ids(const Set& set) const {
  std::vector<std::string> out;
  out.reserve(set.size());
  for (const Index i : set) out.push_back(order_[i]);
  return out;
}

RevisionGraph::Set RevisionGraph::missing(const Set& applied, const Set& targets) const {
  Set out;
  for (const Index i : closure(targets, false)) {
    if (!contains(applied, i)) out.push_back(i);
  }
  return out;
}

RevisionGraph::Set RevisionGraph::above(const Set& applied, const Set& targets) const {
  if (targets.empty()) return applied;  // every revision is above base
  const auto below = closure(targets, false);
  const auto over = closure(targets, true);
  Set out;
  for (const Index i : applied) {
    if (contains(over, i) && !contains(below, i)) out.push_back(i);
  }
  return out;
}

std::vector<std::string> RevisionGraph::upgrade_path(
    const std::vector<std::string>& applied, const std::vector<std::string>& targets) const {
  const auto done = index_set(applied, Source::ledger);
  const auto want = index_set(targets, Source::target);
  if (const auto over = above(done, want); !over.empty()) {
    throw RevisionError("cannot upgrade to " + target_text(targets) + ": " +
                        join(ids(heads_of(over))) + " is applied above it; use `db downgrade " +
                        target_text(targets) + "`");
  }
  return ids(missing(done, want));
}

std::vector<std::string> RevisionGraph::downgrade_path(
    const std::vector<std::string>& applied, const std::vector<std::string>& targets) const {
  const auto done = index_set(applied, Source::ledger);
  const auto want = index_set(targets, Source::target);
  Set absent;
  for (const Index i : want) {
    if (!contains(done, i)) absent.push_back(i);
  }
  if (!absent.empty()) {
    throw RevisionError("cannot downgrade to " + join(ids(absent)) +
                        ": not applied; use `db upgrade " + join(ids(absent)) + "`");
  }
  auto out = ids(above(done, want));
  std::reverse(out.begin(), out.end());
  return out;
}

std::optional<std::vector<std::string>> RevisionGraph::branch_base_path(
    std::string_view spec, const std::vector<std::string>& applied) const {
  const auto at = spec.find('@');
  if (at == std::string_view::npos || spec.substr(at + 1) != "base") return std::nullopt;
  const auto label = spec.substr(0, at);
  const auto it = by_label_.find(label);
  if (it == by_label_.end()) {
    throw UnknownRevisionError("unknown branch label " + quoted(label), std::string(label));
  }
  const auto members = branch_members(it->second);
  Set out;
  for (const Index i : index_set(applied, Source::ledger)) {
    if (contains(members, i)) out.push_back(i);
  }
  auto path = ids(out);
  std::reverse(path.begin(), path.end());
  return path;
}

Plan RevisionGraph::plan_to(const std::vector<std::string>& applied,
                            const std::vector<std::string>& targets) const {
  const auto done = index_set(applied, Source::ledger);
  const auto want = index_set(targets, Source::target);
  const auto to_apply = missing(done, want);
  const auto to_remove = above(done, want);
  if (!to_apply.empty() && !to_remove.empty()) {
    throw RevisionError("cannot migrate to " + target_text(targets) + " in one direction: " +
                        "it needs " + join(ids(to_apply)) + " applied and " + join(ids(to_remove)) +
                        " un-applied; migrate to one target at a time");
  }
  if (!to_apply.empty()) return {Direction::upgrade, ids(to_apply)};
  if (to_remove.empty()) return {};
  auto out = ids(to_remove);
  std::reverse(out.begin(), out.end());
  return {Direction::downgrade, std::move(out)};
}

std::vector<std::string> RevisionGraph::history(const std::vector<std::string>& lower,
                                                const std::vector<std::string>& upper) const {
  const auto low = index_set(lower, Source::target);
  const auto high = index_set(upper, Source::target);
  const auto below_upper = closure(high, false);
  const auto above_lower = closure(low, true);
  // A lower end that is not below the upper one (the range given newer first, or two
  // branches) would select nothing: say so instead of printing an empty history.
  for (const Index i : low) {
    if (!contains(below_upper, i)) {
      throw RevisionError("revision " + quoted(order_[i]) + " is not an ancestor of " +
                          target_text(ids(high)) +
                          "; a history range is LOWER:UPPER, the older first");
    }
  }
  std::vector<std::string> out;
  for (auto it = below_upper.rbegin(); it != below_upper.rend(); ++it) {
    if (low.empty() || contains(above_lower, *it)) out.push_back(order_[*it]);
  }
  return out;
}

std::vector<std::string> RevisionGraph::history(std::string_view range,
                                                const std::vector<std::string>& current) const {
  if (range.empty()) range = ":";
  const auto colon = range.find(':');
  if (colon == std::string_view::npos || range.find(':', colon + 1) != std::string_view::npos) {
    throw RevisionError("history range " + quoted(range) +
                        " must be LOWER:UPPER (either may be empty, e.g. `base:head`)");
  }
  const auto lower_spec = range.substr(0, colon);
  const auto upper_spec = range.substr(colon + 1);
  return history(resolve(lower_spec.empty() ? "base" : lower_spec, current),
                 resolve(upper_spec.empty() ? "heads" : upper_spec, current));
}

bool uses_current(std::string_view spec) {
  if (const auto colon = spec.find(':'); colon != std::string_view::npos)
    return uses_current(spec.substr(0, colon)) || uses_current(spec.substr(colon + 1));
  if (spec == "current") return true;
  if (const auto at = spec.find('@'); at != std::string_view::npos)
    return spec.substr(at + 1) == "base" || relative_suffix(spec.substr(at + 1)) == 0;
  if (const auto sign = relative_suffix(spec); sign != std::string_view::npos)
    return sign == 0 || uses_current(spec.substr(0, sign));
  return false;
}

void refuse_relative_to_database(std::string_view spec, std::string_view command) {
  if (!uses_current(spec) || spec.ends_with("@base")) return;
  throw CommandError(std::string(command) + " works on the migration files and does not read "
                     "the database, so '" + std::string(spec) +
                     "', which counts from the database's revisions, names nothing here; name "
                     "a revision (its id, a label, head)");
}

std::string new_revision_id(const RevisionGraph& existing) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::random_device device;
  for (;;) {
    std::uint64_t bits = (std::uint64_t{device()} << 32) ^ std::uint64_t{device()};
    std::string id(12, '0');
    for (auto it = id.rbegin(); it != id.rend(); ++it, bits >>= 4) *it = kHex[bits & 0xf];
    if (existing.find(id) == nullptr && existing.find_label(id) == nullptr) return id;
  }
}

}  // namespace strata::migrate
