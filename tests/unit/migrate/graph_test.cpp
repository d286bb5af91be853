// The revision graph in memory: validation, heads and bases, spec resolution (ids, prefixes,
// head/heads/base, relative moves, branch labels), upgrade / downgrade paths over chains,
// branches and merges, Django's plan_to, history ranges, order and fresh ids.
#include "strata/migrate/graph.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "strata/migrate/errors.hpp"

using namespace strata::migrate;
using Ids = std::vector<std::string>;

namespace {

Revision rev(std::string id, Ids down = {}, Ids labels = {}) {
  return Revision{std::move(id), std::move(down), std::move(labels), ""};
}

// Runs fn, which must throw E whose what() contains `text`; returns the error for more checks.
template <typename E>
E thrown(const std::function<void()>& fn, const std::string& text) {
  try {
    fn();
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos)
        << "message '" << e.what() << "' should contain '" << text << "'";
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong error type, message: " << e.what();
    throw;
  }
  ADD_FAILURE() << "nothing thrown; expected an error containing '" << text << "'";
  throw std::logic_error("no error");
}

// a <- b <- c <- d
RevisionGraph chain() {
  return RevisionGraph({rev("a1", {}), rev("b2", {"a1"}), rev("c3", {"b2"}), rev("d4", {"c3"})});
}

// a <- b <- c (left), a <- x <- y (right): a is a branch point, c and y are heads.
RevisionGraph forked() {
  return RevisionGraph(
      {rev("a1"), rev("b2", {"a1"}), rev("c3", {"b2"}), rev("e5", {"a1"}), rev("f6", {"e5"})});
}

// forked() plus m7 merging c3 and f6.
RevisionGraph merged() {
  return RevisionGraph({rev("a1"), rev("b2", {"a1"}), rev("c3", {"b2"}), rev("e5", {"a1"}),
                        rev("f6", {"e5"}), rev("m7", {"c3", "f6"})});
}

const Ids kAll = {"a1", "b2", "c3", "d4"};

}  // namespace

// --- linear chain -------------------------------------------------------------------------

TEST(RevisionGraphChain, has_one_base_and_one_head) {
  const auto g = chain();
  EXPECT_EQ(g.heads(), Ids{"d4"});
  EXPECT_EQ(g.bases(), Ids{"a1"});
  EXPECT_TRUE(g.branch_points().empty());
  EXPECT_TRUE(g.merge_points().empty());
  EXPECT_EQ(g.topological_order(), kAll);
  EXPECT_EQ(g.ancestors("c3"), (Ids{"a1", "b2"}));
  EXPECT_EQ(g.descendants("b2"), (Ids{"c3", "d4"}));
  EXPECT_EQ(g.children("b2"), Ids{"c3"});
}

TEST(RevisionGraphChain, upgrade_from_empty_to_head_applies_every_revision_in_order) {
  const auto g = chain();
  EXPECT_EQ(g.upgrade_path({}, g.resolve("head", {})), kAll);
}

TEST(RevisionGraphChain, upgrade_from_the_middle_applies_only_what_is_missing) {
  const auto g = chain();
  EXPECT_EQ(g.upgrade_path({"a1", "b2"}, {"d4"}), (Ids{"c3", "d4"}));
  EXPECT_TRUE(g.upgrade_path(kAll, {"d4"}).empty()) << "at head, upgrade head has nothing to do";
}

TEST(RevisionGraphChain, upgrade_to_a_revision_below_the_applied_ones_says_downgrade) {
  const auto g = chain();
  thrown<RevisionError>([&] { g.upgrade_path(kAll, {"b2"}); }, "use `db downgrade b2`");
}

TEST(RevisionGraphChain, downgrade_minus_one_unapplies_the_head) {
  const auto g = chain();
  const auto target = g.resolve("-1", kAll);
  EXPECT_EQ(target, Ids{"c3"});
  EXPECT_EQ(g.downgrade_path(kAll, target), Ids{"d4"});
}

TEST(RevisionGraphChain, downgrade_to_base_unapplies_everything_children_first) {
  const auto g = chain();
  EXPECT_TRUE(g.resolve("base", kAll).empty());
  EXPECT_EQ(g.downgrade_path(kAll, {}), (Ids{"d4", "c3", "b2", "a1"}));
}

TEST(RevisionGraphChain, downgrade_to_a_specific_revision_keeps_it) {
  const auto g = chain();
  EXPECT_EQ(g.downgrade_path(kAll, {"b2"}), (Ids{"d4", "c3"}));
}

TEST(RevisionGraphChain, downgrade_to_a_revision_not_applied_says_upgrade) {
  const auto g = chain();
  thrown<RevisionError>([&] { g.downgrade_path({"a1"}, {"c3"}); }, "use `db upgrade c3`");
}

TEST(RevisionGraphChain, relative_moves_count_from_the_current_head) {
  const auto g = chain();
  EXPECT_EQ(g.resolve("+2", {"a1"}), Ids{"c3"});
  EXPECT_EQ(g.resolve("-2", kAll), Ids{"b2"});
  EXPECT_EQ(g.resolve("+1", {}), Ids{"a1"}) << "+1 from nothing applied is the base revision";
  EXPECT_TRUE(g.resolve("-4", kAll).empty()) << "-4 from the 4th revision is base";
  EXPECT_EQ(g.resolve("-1", {"a1", "b2", "c3"}), Ids{"b2"})
      << "current given as every applied revision must count from its head";
}

TEST(RevisionGraphChain, relative_moves_count_from_a_named_revision) {
  const auto g = chain();
  EXPECT_EQ(g.resolve("a1+2", {}), Ids{"c3"});
  EXPECT_EQ(g.resolve("d4-3", {}), Ids{"a1"});
  EXPECT_EQ(g.resolve("head-1", {}), Ids{"c3"});
  EXPECT_EQ(g.resolve("c+1", {}), Ids{"d4"}) << "the revision before the sign may be a prefix";
  EXPECT_EQ(g.resolve("base+1", {}), Ids{"a1"});
}

TEST(RevisionGraphChain, moving_past_head_says_how_far_one_can_go) {
  const auto g = chain();
  thrown<RevisionError>(
      [&] {
        g.resolve("+3", {"a1", "b2", "c3"});
      },
      "cannot move 3 revisions up from c3: only 1 more");
  thrown<RevisionError>([&] { g.resolve("+1", kAll); },
                        "cannot move 1 revision up from d4: it is a head");
}

TEST(RevisionGraphChain, moving_below_base_says_how_far_one_can_go) {
  const auto g = chain();
  thrown<RevisionError>(
      [&] {
        g.resolve("-5", {"a1", "b2", "c3"});
      },
      "cannot move 5 revisions down from c3: only 3 to base");
  thrown<RevisionError>([&] { g.resolve("-1", {}); }, "from base");
}

TEST(RevisionGraphChain, a_zero_count_is_refused) {
  thrown<RevisionError>([&] { chain().resolve("+0", {"a1"}); }, "moves nowhere");
}

TEST(RevisionGraphChain, resolve_one_refuses_base_and_several_revisions) {
  const auto g = chain();
  EXPECT_EQ(g.resolve_one("c", {}), "c3");
  thrown<RevisionError>([&] { g.resolve_one("base", {}); }, "base");
  const auto e = thrown<AmbiguousRevisionError>([&] { forked().resolve_one("heads", {}); },
                                                "'heads' names several revisions: c3, f6");
  EXPECT_EQ(e.candidates(), (Ids{"c3", "f6"}));
}

TEST(RevisionGraphChain, current_is_the_applied_head) {
  const auto g = chain();
  EXPECT_EQ(g.resolve("current", {"a1", "b2"}), Ids{"b2"});
  EXPECT_TRUE(g.resolve("current", {}).empty());
}

// --- branches -----------------------------------------------------------------------------

TEST(RevisionGraphBranches, head_with_two_heads_is_a_multiple_heads_error_naming_both) {
  const auto e = thrown<MultipleHeadsError>([] { forked().resolve("head", {}); },
                                            "multiple heads: c3, f6; run `db merge heads`");
  EXPECT_EQ(e.heads(), (Ids{"c3", "f6"}));
}

TEST(RevisionGraphBranches, heads_names_both_and_upgrading_to_them_applies_both_branches) {
  const auto g = forked();
  const auto heads = g.resolve("heads", {});
  EXPECT_EQ(heads, (Ids{"c3", "f6"}));
  EXPECT_EQ(g.upgrade_path({}, heads), (Ids{"a1", "b2", "c3", "e5", "f6"}))
      << "each branch is applied whole, one after the other";
  EXPECT_EQ(g.upgrade_path({"a1", "b2", "c3"}, heads), (Ids{"e5", "f6"}));
}

TEST(RevisionGraphBranches, the_fork_is_a_branch_point) {
  const auto g = forked();
  EXPECT_EQ(g.branch_points(), Ids{"a1"});
  EXPECT_EQ(g.children("a1"), (Ids{"b2", "e5"}));
  EXPECT_EQ(g.heads(), (Ids{"c3", "f6"}));
}

TEST(RevisionGraphBranches, moving_up_from_a_branch_point_is_ambiguous_with_the_choices) {
  const auto e = thrown<AmbiguousRevisionError>(
      [] { forked().resolve("+1", {"a1"}); }, "cannot move up from 'a1': it branches into b2, e5");
  EXPECT_EQ(e.candidates(), (Ids{"b2", "e5"}));
}

TEST(RevisionGraphBranches, relative_moves_need_a_single_current_head) {
  const Ids applied = {"a1", "b2", "c3", "e5", "f6"};
  const auto e = thrown<MultipleHeadsError>([&] { forked().resolve("-1", applied); },
                                            "several revisions are current: c3, f6");
  EXPECT_EQ(e.heads(), (Ids{"c3", "f6"}));
  EXPECT_EQ(forked().resolve("f6-1", applied), (Ids{"c3", "e5"}));
}

TEST(RevisionGraphBranches, a_relative_move_of_one_current_head_leaves_the_others_current) {
  // The hint above (`f6-1`) undoes f6 only: c3, the other branch, stays applied.
  const auto g = forked();
  const Ids applied = {"a1", "b2", "c3", "e5", "f6"};
  EXPECT_EQ(g.downgrade_path(applied, g.resolve("f6-1", applied)), Ids{"f6"});
  EXPECT_EQ(g.downgrade_path(applied, g.resolve("f6-2", applied)), (Ids{"f6", "e5"}));
  EXPECT_EQ(g.downgrade_path(applied, g.resolve("c3-1", applied)), Ids{"c3"});
  // Moved below the branch point, f6's line would take c3's with it: refused.
  const RevisionGraph forked_late({rev("a1"), rev("b2", {"a1"}), rev("c3", {"b2"}),
                                   rev("d4", {"b2"})});
  const Ids both = {"a1", "b2", "c3", "d4"};
  EXPECT_EQ(forked_late.downgrade_path(both, forked_late.resolve("c3-1", both)), Ids{"c3"});
  thrown<RevisionError>([&] { forked_late.resolve("c3-2", both); },
                        "cannot move c3 down as 'c3-2': b2 is below d4 too, which stays current");
  // A revision that is not current moves as before.
  EXPECT_EQ(g.resolve("e5-1", applied), Ids{"a1"});
}

TEST(RevisionGraphBranches, downgrading_one_branch_leaves_the_other_alone) {
  const auto g = forked();
  EXPECT_EQ(g.downgrade_path({"a1", "b2", "c3", "e5", "f6"}, {"e5"}), Ids{"f6"});
  EXPECT_EQ(g.downgrade_path({"a1", "b2", "c3", "e5", "f6"}, {"a1"}),
            (Ids{"f6", "e5", "c3", "b2"}));
}

TEST(RevisionGraphBranches, moving_down_to_base_with_several_bases_is_refused) {
  const RevisionGraph g({rev("a1"), rev("b2", {"a1"}), rev("x1"), rev("y2", {"x1"})});
  EXPECT_EQ(g.bases(), (Ids{"a1", "x1"}));
  EXPECT_EQ(g.resolve("y2-1", {}), Ids{"x1"});
  thrown<RevisionError>([&] { g.resolve("y2-2", {}); }, "several bases (a1, x1)");
  thrown<AmbiguousRevisionError>([&] { g.resolve("+1", {}); }, "it branches into a1, x1");
  // From a branch that is not the one current head, base would un-apply another branch.
  thrown<RevisionError>([&] { g.resolve("y2-2", {"a1"}); }, "several bases (a1, x1)");
}

TEST(RevisionGraphBranches, a_branch_moves_down_to_base_alone_when_others_are_not_applied_or_stay) {
  const RevisionGraph g({rev("a1"), rev("b2", {"a1"}), rev("x1"), rev("y2", {"x1"})});
  // The one current head: whatever is applied lies below it, base un-applies just that.
  EXPECT_EQ(g.resolve("-1", {"a1"}), Ids{});
  EXPECT_EQ(g.resolve("-2", {"a1", "b2"}), Ids{});
  EXPECT_EQ(g.resolve("b2-2", {"a1", "b2"}), Ids{});
  EXPECT_EQ(g.downgrade_path({"a1", "b2"}, {}), (Ids{"b2", "a1"}));
  // REV-N to base with another head current: base, as a target, is every branch's; the error
  // says how to move the branch alone.
  thrown<RevisionError>([&] { g.resolve("a1-1", {"a1", "x1"}); },
                        "stays current (base un-applies every branch); to un-apply this branch "
                        "alone, give its first revision a branch label");
  const RevisionGraph labelled({rev("a1", {}, {"app"}), rev("b2", {"a1"}), rev("x1")});
  thrown<RevisionError>([&] { labelled.resolve("b2-2", {"a1", "b2", "x1"}); },
                        "run `db downgrade app@base`");
  EXPECT_EQ(labelled.branch_base_path("app@base", {"a1", "b2", "x1"}), (Ids{"b2", "a1"}));
}

TEST(RevisionGraphBranches, label_heads_and_label_head_minus_n_as_alembic_writes_them) {
  const RevisionGraph g({rev("a1"), rev("b2", {"a1"}), rev("c3", {"b2"}),
                         rev("d4", {"b2"}, {"feat"}), rev("e5", {"d4"}), rev("f6", {"d4"})});
  EXPECT_EQ(g.resolve("feat@heads", {}), (Ids{"e5", "f6"}));
  thrown<MultipleHeadsError>([&] { g.resolve("feat@head-1", {}); }, "has multiple heads");
  const RevisionGraph one({rev("a1"), rev("b2", {"a1"}), rev("c3", {"b2"}),
                           rev("d4", {"b2"}, {"feat"}), rev("e5", {"d4"})});
  EXPECT_EQ(one.resolve("feat@heads", {}), Ids{"e5"});
  EXPECT_EQ(one.resolve("feat@head-1", {}), Ids{"d4"});
  thrown<RevisionError>([&] { one.resolve("feat@head-2", {}); }, "on branch 'feat'");
  thrown<RevisionError>([&] { one.resolve("feat@head+1", {}); }, "it is a head");
}

// --- merges -------------------------------------------------------------------------------

TEST(RevisionGraphMerge, upgrade_applies_both_branches_before_the_merge) {
  const auto g = merged();
  EXPECT_EQ(g.resolve("head", {}), Ids{"m7"});
  EXPECT_EQ(g.merge_points(), Ids{"m7"});
  const auto path = g.upgrade_path({"a1", "b2"}, {"m7"});
  EXPECT_EQ(path, (Ids{"c3", "e5", "f6", "m7"}));
}

TEST(RevisionGraphMerge, downgrade_to_one_branch_tip_unapplies_only_the_merge) {
  // Alembic's and Django's rule: only what grows out of the target goes; the other
  // branch (e5, f6) does not descend from c3 and stays.
  const auto g = merged();
  const Ids all = {"a1", "b2", "c3", "e5", "f6", "m7"};
  EXPECT_EQ(g.downgrade_path(all, {"c3"}), Ids{"m7"});
  EXPECT_EQ(g.downgrade_path(all, {"b2"}), (Ids{"m7", "c3"}));
  EXPECT_EQ(g.downgrade_path(all, {"c3", "e5"}), (Ids{"m7", "f6"}))
      << "naming both tips un-applies the merge and the other branch's revisions only";
}

TEST(RevisionGraphMerge, minus_one_from_a_merge_targets_both_its_parents) {
  const auto g = merged();
  const Ids all = {"a1", "b2", "c3", "e5", "f6", "m7"};
  const auto target = g.resolve("-1", all);
  EXPECT_EQ(target, (Ids{"c3", "f6"}));
  EXPECT_EQ(g.downgrade_path(all, target), Ids{"m7"});
  const auto e = thrown<AmbiguousRevisionError>([&] { g.resolve("-2", all); },
                                                "cannot move further down than c3, f6");
  EXPECT_EQ(e.candidates(), (Ids{"c3", "f6"}));
}

// --- prefixes -----------------------------------------------------------------------------

TEST(RevisionGraphPrefix, a_unique_prefix_names_its_revision) {
  const RevisionGraph g({rev("3f2a9c1b7d4e"), rev("3f99aa000011", {"3f2a9c1b7d4e"}),
                         rev("8a1b2c3d4e5f", {"3f99aa000011"})});
  EXPECT_EQ(g.resolve("3f2", {}), Ids{"3f2a9c1b7d4e"});
  EXPECT_EQ(g.resolve("8", {}), Ids{"8a1b2c3d4e5f"});
  EXPECT_EQ(g.resolve("3f2a9c1b7d4e", {}), Ids{"3f2a9c1b7d4e"});
}

TEST(RevisionGraphPrefix, an_ambiguous_prefix_lists_the_candidates) {
  const RevisionGraph g({rev("3f2a9c1b7d4e"), rev("3f99aa000011", {"3f2a9c1b7d4e"})});
  const auto e = thrown<AmbiguousRevisionError>(
      [&] { g.resolve("3f", {}); }, "ambiguous revision '3f': 3f2a9c1b7d4e, 3f99aa000011");
  EXPECT_EQ(e.spec(), "3f");
  EXPECT_EQ(e.candidates(), (Ids{"3f2a9c1b7d4e", "3f99aa000011"}));
}

TEST(RevisionGraphPrefix, an_exact_id_wins_over_longer_ids_it_prefixes) {
  const RevisionGraph g({rev("abc"), rev("abcd", {"abc"})});
  EXPECT_EQ(g.resolve("abc", {}), Ids{"abc"});
}

TEST(RevisionGraphPrefix, an_unknown_revision_is_named) {
  const auto e =
      thrown<UnknownRevisionError>([] { chain().resolve("zzz", {}); }, "unknown revision 'zzz'");
  EXPECT_EQ(e.spec(), "zzz");
  thrown<UnknownRevisionError>([] { chain().resolve("", {}); }, "no revision given");
}

TEST(RevisionGraphPrefix, an_applied_revision_without_a_migration_is_reported) {
  thrown<UnknownRevisionError>(
      [] {
        chain().upgrade_path({"a1", "gone"}, {"d4"});
      },
      "revision 'gone' is recorded as applied but no migration");
  thrown<UnknownRevisionError>([] { chain().resolve("+1", {"gone"}); }, "'gone'");
}

TEST(RevisionGraphPrefix, a_ledger_with_a_gap_is_reported) {
  thrown<RevisionError>(
      [] {
        chain().upgrade_path({"a1", "c3"}, {"d4"});
      },
      "revision 'c3' is recorded as applied but its down_revision 'b2' is not");
}

// --- branch labels ------------------------------------------------------------------------

namespace {
// a1 <- b2 <- c3 (main); a1 <- e5["feature"] <- f6
RevisionGraph labelled() {
  return RevisionGraph({rev("a1", {}, {"main"}), rev("b2", {"a1"}), rev("c3", {"b2"}),
                        rev("e5", {"a1"}, {"feature"}), rev("f6", {"e5"})});
}
}  // namespace

TEST(RevisionGraphLabels, a_label_names_the_head_of_its_branch) {
  const auto g = labelled();
  EXPECT_EQ(g.resolve("feature", {}), Ids{"f6"});
  EXPECT_EQ(g.resolve("feature@head", {}), Ids{"f6"});
  EXPECT_EQ(g.find_label("feature")->id, "e5");
  EXPECT_EQ(g.find_label("nope"), nullptr);
}

TEST(RevisionGraphLabels, a_label_on_a_forked_branch_has_several_heads) {
  const auto e = thrown<MultipleHeadsError>([] { labelled().resolve("main@head", {}); },
                                            "branch 'main' has multiple heads: c3, f6");
  EXPECT_EQ(e.heads(), (Ids{"c3", "f6"}));
}

TEST(RevisionGraphLabels, label_at_base_un_applies_the_branch_alone_as_alembic_does) {
  const auto g = labelled();  // a1 (main) -> b2 -> c3, a1 -> e5 (feature) -> f6
  const Ids all{"a1", "b2", "c3", "e5", "f6"};
  EXPECT_EQ(g.resolve("feature@base", all), Ids{"c3"}) << "what stays applied, by its heads";
  EXPECT_EQ(g.branch_base_path("feature@base", all), Ids({"f6", "e5"}));
  EXPECT_EQ(g.branch_base_path("feature@base", {"a1", "b2"}), Ids{}) << "nothing of it applied";
  EXPECT_EQ(g.branch_base_path("main@base", all), Ids({"f6", "e5", "c3", "b2", "a1"}));
  EXPECT_EQ(g.branch_base_path("feature@head", all), std::nullopt);
  EXPECT_EQ(g.branch_base_path("base", all), std::nullopt);
  thrown<UnknownRevisionError>([&] { g.branch_base_path("nope@base", all); },
                               "unknown branch label 'nope'");
  EXPECT_TRUE(uses_current("feature@base"));

  // A branch with a base of its own (Alembic's `revision --head base --branch-label audit`):
  // no target of downgrade_path() un-applies it alone.
  const RevisionGraph two({rev("m1", {}), rev("m2", {"m1"}), rev("x1", {}, {"audit"}),
                           rev("x2", {"x1"})});
  const Ids both{"m1", "m2", "x1", "x2"};
  EXPECT_EQ(two.resolve("audit@base", both), Ids{"m2"});
  EXPECT_EQ(two.branch_base_path("audit@base", both), Ids({"x2", "x1"}));
  EXPECT_EQ(two.upgrade_path(both, two.resolve("audit@base", both)), Ids{});
}

TEST(RevisionGraphLabels, label_at_id_looks_only_on_the_branch) {
  const auto g = labelled();
  EXPECT_EQ(g.resolve("feature@f", {}), Ids{"f6"});
  thrown<RevisionError>([&] { g.resolve("feature@c3", {}); }, "not on branch 'feature'");
  thrown<UnknownRevisionError>([&] { g.resolve("nope@head", {}); }, "unknown branch label 'nope'");
}

TEST(RevisionGraphLabels, label_relative_moves_stay_on_the_branch) {
  const auto g = labelled();
  const Ids applied = {"a1", "b2", "c3"};
  EXPECT_EQ(g.resolve("feature@+1", applied), Ids{"e5"}) << "entering the branch";
  EXPECT_EQ(g.resolve("feature@+2", applied), Ids{"f6"});
  EXPECT_EQ(g.resolve("feature@-1", {"c3", "f6"}), Ids{"e5"});
  thrown<RevisionError>([&] { g.resolve("feature@-2", {"c3", "f6"}); }, "on branch 'feature'");
  thrown<RevisionError>([&] { g.resolve("feature@-1", applied); }, "none of its revisions");
}

// --- validation ---------------------------------------------------------------------------

TEST(RevisionGraphValidation, a_duplicate_id_is_refused) {
  thrown<RevisionError>(
      [] {
        RevisionGraph({rev("a1"), rev("a1")});
      },
      "two migrations have revision id 'a1'");
}

TEST(RevisionGraphValidation, an_unknown_down_revision_is_refused) {
  thrown<RevisionError>([] { RevisionGraph({rev("abc", {"zzz"})}); },
                        "revision 'abc' names down_revision 'zzz', which does not exist");
}

TEST(RevisionGraphValidation, a_cycle_is_refused_and_shown) {
  thrown<RevisionError>(
      [] {
        RevisionGraph({rev("a1"), rev("b2", {"a1", "c3"}), rev("c3", {"b2"})});
      },
      "down_revisions form a cycle: b2 -> c3 -> b2");
  thrown<RevisionError>([] { RevisionGraph({rev("a1", {"a1"})}); }, "names itself");
}

TEST(RevisionGraphValidation, a_duplicate_branch_label_is_refused) {
  thrown<RevisionError>(
      [] {
        RevisionGraph({rev("a1", {}, {"x"}), rev("b2", {"a1"}, {"x"})});
      },
      "branch label 'x' is used by both revision 'a1' and revision 'b2'");
}

TEST(RevisionGraphValidation, reserved_and_ill_formed_names_are_refused) {
  thrown<RevisionError>([] { RevisionGraph({rev("head")}); }, "is reserved");
  thrown<RevisionError>([] { RevisionGraph({rev("a1", {}, {"base"})}); }, "is reserved");
  thrown<RevisionError>([] { RevisionGraph({rev("a@1")}); }, "may contain only");
  thrown<RevisionError>([] { RevisionGraph({rev("")}); }, "empty revision id");
  thrown<RevisionError>(
      [] {
        RevisionGraph({rev("a1", {}, {"b2"}), rev("b2", {"a1"})});
      },
      "is also a revision id");
  thrown<RevisionError>([] { RevisionGraph({rev("a1"), rev("b2", {"a1", "a1"})}); }, "twice");
}

TEST(RevisionGraphValidation, an_empty_graph_has_head_equal_to_base) {
  const RevisionGraph g;
  EXPECT_TRUE(g.heads().empty());
  EXPECT_TRUE(g.resolve("head", {}).empty());
  EXPECT_TRUE(g.upgrade_path({}, {}).empty());
}

// --- fresh ids ----------------------------------------------------------------------------

TEST(RevisionGraphIds, new_ids_are_twelve_lower_case_hex_digits_and_distinct) {
  RevisionGraph g;
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const auto id = new_revision_id(g);
    ASSERT_EQ(id.size(), 12u) << id;
    EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    })) << id;
    EXPECT_TRUE(seen.insert(id).second) << "repeated id " << id;
  }
  const RevisionGraph used({rev(*seen.begin())});
  EXPECT_NE(new_revision_id(used), *seen.begin());
  EXPECT_NO_THROW(RevisionGraph({rev(new_revision_id(used))})) << "a fresh id must be valid";
}

// --- Django's migrate TARGET --------------------------------------------------------------

TEST(RevisionGraphPlan, plan_to_an_unapplied_target_goes_forward) {
  const auto plan = chain().plan_to({"a1"}, {"c3"});
  EXPECT_EQ(plan.direction, Direction::upgrade);
  EXPECT_EQ(plan.revisions, (Ids{"b2", "c3"}));
}

TEST(RevisionGraphPlan, plan_to_an_applied_target_goes_backward) {
  const auto plan = chain().plan_to(kAll, {"b2"});
  EXPECT_EQ(plan.direction, Direction::downgrade);
  EXPECT_EQ(plan.revisions, (Ids{"d4", "c3"}));
}

TEST(RevisionGraphPlan, plan_to_zero_unapplies_everything) {
  const auto g = chain();
  const auto plan = g.plan_to({"a1", "b2"}, g.resolve("zero", {}));
  EXPECT_EQ(plan.direction, Direction::downgrade);
  EXPECT_EQ(plan.revisions, (Ids{"b2", "a1"}));
}

TEST(RevisionGraphPlan, plan_to_where_one_is_does_nothing) {
  const auto plan = chain().plan_to(kAll, {"d4"});
  EXPECT_EQ(plan.direction, Direction::none);
  EXPECT_TRUE(plan.revisions.empty());
}

TEST(RevisionGraphPlan, plan_to_targets_in_both_directions_is_refused) {
  thrown<RevisionError>(
      [] {
        forked().plan_to({"a1", "b2", "c3"}, {"b2", "f6"});
      },
      "migrate to one target at a time");
}

// --- history and order --------------------------------------------------------------------

TEST(RevisionGraphHistory, a_range_lists_newest_first) {
  const auto g = chain();
  EXPECT_EQ(g.history("", {}), (Ids{"d4", "c3", "b2", "a1"}));
  EXPECT_EQ(g.history("b2:c3", {}), (Ids{"c3", "b2"}));
  EXPECT_EQ(g.history("c3:", {}), (Ids{"d4", "c3"}));
  EXPECT_EQ(g.history(":b2", {}), (Ids{"b2", "a1"}));
  EXPECT_EQ(g.history("-1:current", {"a1", "b2"}), (Ids{"b2", "a1"}));
  thrown<RevisionError>([&] { g.history("b2", {}); }, "must be LOWER:UPPER");
}

TEST(RevisionGraphHistory, a_range_given_newer_first_is_refused) {
  thrown<RevisionError>([] { chain().history("c3:b2", {}); },
                        "revision 'c3' is not an ancestor of b2");
  thrown<RevisionError>([] { chain().history("b2:base", {}); }, "is not an ancestor of base");
  thrown<RevisionError>([] { forked().history("c3:e5", {}); }, "is not an ancestor of e5");
  EXPECT_EQ(chain().history("c3:c3", {}), (Ids{"c3"}));
  EXPECT_TRUE(chain().history("base:base", {}).empty());
}

TEST(RevisionGraphHistory, specs_relative_to_the_database_say_they_use_current) {
  for (const char* spec : {"current", "current-1", "+1", "-2", "-2:current", "current:",
                           ":current", "b2:+1", "lbl@-1", "current+1:head"})
    EXPECT_TRUE(uses_current(spec)) << spec << " resolves against the database's revision, "
                                    << "which history would then not read";
  for (const char* spec : {"", ":", "head", "heads", "base", "b2", "b2-1", "b2:c3", "head-1:",
                           "lbl@head", "lbl@b2"})
    EXPECT_FALSE(uses_current(spec)) << spec << " does not need the database";
}

TEST(RevisionGraphHistory, a_range_over_a_merge_includes_both_branches) {
  EXPECT_EQ(merged().history(Ids{"a1"}, Ids{"m7"}), (Ids{"m7", "f6", "e5", "c3", "b2", "a1"}));
  EXPECT_EQ(merged().history(Ids{"e5"}, Ids{"m7"}), (Ids{"m7", "f6", "e5"}));
}

TEST(RevisionGraphOrder, topological_order_does_not_depend_on_the_input_order) {
  std::vector<Revision> revisions = {rev("a1"),         rev("b2", {"a1"}),       rev("c3", {"b2"}),
                                     rev("e5", {"a1"}), rev("m7", {"c3", "e5"}), rev("x0")};
  const Ids expected = {"a1", "b2", "c3", "e5", "m7", "x0"};
  std::sort(revisions.begin(), revisions.end(),
            [](const Revision& a, const Revision& b) { return a.id < b.id; });
  do {
    EXPECT_EQ(RevisionGraph(revisions).topological_order(), expected)
        << "ties go to the smallest id, and a branch is finished before the next starts";
  } while (std::next_permutation(revisions.begin(), revisions.end(),
                                 [](const Revision& a, const Revision& b) { return a.id < b.id; }));
}

TEST(RevisionGraphOrder, revisions_come_in_topological_order) {
  const RevisionGraph g({rev("m7", {"c3", "f6"}), rev("f6", {"a1"}), rev("c3", {"a1"}), rev("a1")});
  Ids ids;
  for (const auto& r : g.revisions()) ids.push_back(r.id);
  EXPECT_EQ(ids, (Ids{"a1", "c3", "f6", "m7"}));
  EXPECT_EQ(g.find("f6")->down_revisions, Ids{"a1"});
  EXPECT_EQ(g.find("zz"), nullptr);
}
