// Snapshots as the session keeps them: 16-byte cells (short text and blobs inside the cell,
// longer ones in their chunk's arena), ValueRef's comparisons, and the arena's bookkeeping:
// bytes of replaced values are garbage until the state table compacts the arena, and
// rollback's saved cells keep theirs alive until then.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strata/strata.hpp"

namespace {

struct Memo {
  std::int64_t id = 0;
  std::string text{};
  std::optional<strata::Blob> data{};
};

}  // namespace

template <>
struct strata::Model<Memo> {
  static constexpr auto table = "memo";
  static auto columns() {
    return mapping(column("id", &Memo::id).primary_key(), column("text", &Memo::text),
                   column("data", &Memo::data));
  }
};

namespace {

using strata::Blob;
using strata::Value;
using strata::ValueRef;
using strata::detail::InstanceState;
using strata::detail::SnapshotArena;
using strata::detail::SnapshotCell;
using strata::detail::StateTable;

Blob blob_of(std::string_view s) {
  Blob b;
  for (char c : s) b.push_back(static_cast<std::byte>(c));
  return b;
}

// v, put in a cell and read back.
Value round_trip(const Value& v, SnapshotArena& arena) {
  SnapshotCell c;
  c.assign(ValueRef(v), arena);
  return c.get().to_value();
}

TEST(SnapshotCell, every_kind_of_value_reads_back_as_it_was_stored) {
  SnapshotArena arena(1);
  const std::string fourteen(14, 'x'), fifteen(15, 'y');
  const std::string with_nul("ab\0cd-long-enough-for-the-arena", 31);
  for (const Value& v : {Value{}, Value{std::int64_t{0}},
                         Value{std::numeric_limits<std::int64_t>::min()},
                         Value{std::numeric_limits<std::int64_t>::max()}, Value{-0.5},
                         Value{1e300}, Value{std::string{}}, Value{fourteen}, Value{fifteen},
                         Value{with_nul}, Value{Blob{}}, Value{blob_of("short")},
                         Value{blob_of(with_nul)}})
    EXPECT_EQ(round_trip(v, arena), v) << strata::to_display(v);
  EXPECT_EQ(arena.stored_bytes(), 15u + 31u + 31u)
      << "only text and blobs longer than 14 bytes go to the arena";
}

TEST(SnapshotCell, a_cell_compares_by_kind_and_content) {
  SnapshotArena arena(1);
  SnapshotCell text, blob, number;
  const std::string long_text = "the same bytes, twenty-nine!";
  text.assign(ValueRef::text(long_text), arena);
  blob.assign(ValueRef(Value{blob_of(long_text)}), arena);
  number.assign(ValueRef::integer(7), arena);
  EXPECT_TRUE(text.get() == ValueRef::text(long_text));
  EXPECT_FALSE(text.get() == blob.get()) << "text and a blob of the same bytes are equal";
  std::string changed = long_text;
  changed.back() = '?';
  EXPECT_FALSE(text.get() == ValueRef::text(changed)) << "a change in the last byte went unseen";
  EXPECT_FALSE(number.get() == ValueRef::real(7.0)) << "an integer equals a real";
  EXPECT_FALSE(number.get() == ValueRef{}) << "a value equals NULL";
  EXPECT_TRUE(ValueRef{} == ValueRef{});
  // holds(): the same answers without reading the cell into a ValueRef first.
  EXPECT_TRUE(text.holds(ValueRef::text(long_text)));
  EXPECT_FALSE(text.holds(ValueRef::text(changed)));
  EXPECT_FALSE(text.holds(blob.get()));
  EXPECT_TRUE(number.holds(ValueRef::integer(7)));
  EXPECT_FALSE(number.holds(ValueRef::integer(8)));
  EXPECT_FALSE(number.holds(ValueRef::real(7.0)));
  EXPECT_FALSE(number.holds(ValueRef{}));
  SnapshotCell short_text, empty, null;
  short_text.assign(ValueRef::text("abc"), arena);
  empty.assign(ValueRef::text(""), arena);
  EXPECT_TRUE(short_text.holds(ValueRef::text("abc")));
  EXPECT_FALSE(short_text.holds(ValueRef::text("abd")));
  EXPECT_FALSE(short_text.holds(ValueRef::text("ab")));
  EXPECT_TRUE(empty.holds(ValueRef::text("")));
  EXPECT_FALSE(empty.holds(ValueRef{})) << "empty text holds NULL";
  EXPECT_TRUE(null.holds(ValueRef{}));
  EXPECT_FALSE(null.holds(ValueRef::text(""))) << "NULL holds empty text";
  const double nan = std::nan("");
  EXPECT_FALSE(ValueRef::real(nan) == ValueRef::real(nan)) << "NaN must never look unchanged";
  SnapshotCell real, not_a_number, short_blob;
  real.assign(ValueRef::real(-0.5), arena);
  not_a_number.assign(ValueRef::real(nan), arena);
  short_blob.assign(ValueRef(Value{blob_of("abc")}), arena);
  EXPECT_TRUE(real.holds(ValueRef::real(-0.5)));
  EXPECT_FALSE(real.holds(ValueRef::real(0.5)));
  EXPECT_FALSE(real.holds(ValueRef::integer(0)));
  // A member that was NaN and still is has not changed (PostgreSQL too takes NaN = NaN): else
  // every flush would write it again.
  EXPECT_TRUE(not_a_number.holds(ValueRef::real(nan))) << "an unchanged NaN looks changed";
  EXPECT_TRUE(not_a_number.holds(ValueRef::real(-nan)));
  EXPECT_FALSE(not_a_number.holds(ValueRef::real(0.0)));
  EXPECT_FALSE(real.holds(ValueRef::real(nan)));
  EXPECT_FALSE(short_blob.holds(ValueRef::text("abc"))) << "a blob holds text of its bytes";
  EXPECT_TRUE(short_blob.holds(short_blob.get()));
  // A cell not saved (SnapshotCell::unset) holds nothing, not even NULL.
  const SnapshotCell unset = SnapshotCell::unset();
  for (const ValueRef v : {ValueRef{}, ValueRef::integer(0), ValueRef::real(0.0),
                           ValueRef::text(""), short_blob.get()})
    EXPECT_FALSE(unset.holds(v));
}

TEST(SnapshotCell, a_text_of_any_length_differing_in_any_one_byte_is_not_held) {
  // Texts up to 16 bytes are compared without memcmp, by overlapping loads: every length
  // around their bounds (4, 8, 14 inside the cell, 16, the arena beyond), every position.
  SnapshotArena arena(1);
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string text(n, ' ');
    for (std::size_t i = 0; i < n; ++i) text[i] = static_cast<char>('a' + i % 26);
    SnapshotCell cell;
    cell.assign(ValueRef::text(text), arena);
    EXPECT_TRUE(cell.holds(ValueRef::text(text))) << n;
    for (std::size_t i = 0; i < n; ++i) {
      std::string changed = text;
      changed[i] = static_cast<char>(changed[i] ^ 0x40);
      EXPECT_FALSE(cell.holds(ValueRef::text(changed))) << "length " << n << ", byte " << i;
    }
    if (n > 0) {
      EXPECT_FALSE(cell.holds(ValueRef::text(text.substr(0, n - 1)))) << n;
    }
    EXPECT_FALSE(cell.holds(ValueRef::text(text + "z"))) << n;
  }
}

TEST(SnapshotCell, a_cell_can_take_its_own_value) {
  SnapshotArena arena(1);
  SnapshotCell c;
  c.assign(ValueRef::text("inline text"), arena);
  c.assign(c.get(), arena);
  EXPECT_EQ(c.get().to_value(), Value{std::string("inline text")});
}

class SnapshotTable : public ::testing::Test {
 protected:
  const strata::Mapper& m = strata::mapper_of<Memo>();
  StateTable table;

  InstanceState& add(Memo memo) {
    auto& st = table.add(m, std::make_shared<Memo>(std::move(memo)));
    take(st);
    return st;
  }
  void take(InstanceState& st) {
    for (const auto& c : m.columns) st.snapshot.take(*c, st.obj.get());
  }
  static Memo& memo(InstanceState& st) { return *static_cast<Memo*>(st.obj.get()); }
  bool unchanged(InstanceState& st) {
    for (const auto& c : m.columns)
      if (!c->equal(st.obj.get(), st.snapshot.cell(c->index))) return false;
    return true;
  }
};

TEST_F(SnapshotTable, a_snapshot_sees_every_change_to_long_text_and_blobs) {
  auto& st = add(Memo{.id = 1, .text = std::string(100, 'a'), .data = blob_of(std::string(40, 'b'))});
  EXPECT_TRUE(unchanged(st));
  memo(st).text[99] = 'z';
  EXPECT_FALSE(unchanged(st)) << "the last byte of a long text changed unseen";
  memo(st).text[99] = 'a';
  EXPECT_TRUE(unchanged(st));
  (*memo(st).data)[0] = std::byte{0};
  EXPECT_FALSE(unchanged(st)) << "a blob's first byte changed unseen";
  memo(st).data.reset();
  EXPECT_FALSE(unchanged(st)) << "a blob set to NULL went unseen";
  take(st);
  EXPECT_TRUE(unchanged(st));
  EXPECT_EQ(st.snapshot[2].kind(), ValueRef::Kind::none);
}

TEST_F(SnapshotTable, replaced_bytes_are_garbage_until_the_table_compacts_the_arena) {
  auto& st = add(Memo{.id = 1, .text = std::string(200, 'a')});
  const auto& arena = st.snapshot.arena();
  for (char c = 'b'; c <= 'z'; ++c) {
    memo(st).text.assign(200, c);
    take(st);
  }
  EXPECT_EQ(arena.stored_bytes(), 26u * 200u);
  EXPECT_EQ(arena.garbage_bytes(), 25u * 200u);
  ASSERT_TRUE(arena.worth_compacting());
  table.compact_snapshots();
  const auto& fresh = st.snapshot.arena();
  EXPECT_EQ(fresh.stored_bytes(), 200u) << "compaction kept replaced values";
  EXPECT_EQ(fresh.garbage_bytes(), 0u);
  EXPECT_EQ(st.snapshot[1].to_value(), Value{std::string(200, 'z')});
  EXPECT_TRUE(unchanged(st));
}

TEST_F(SnapshotTable, rollback_puts_back_saved_cells_and_their_bytes_count_as_live_again) {
  auto& st = add(Memo{.id = 1, .text = std::string(2000, 'a')});
  const auto& arena = st.snapshot.arena();
  for (char c : {'b', 'c', 'd'}) {  // three UPDATEs of one transaction
    memo(st).text.assign(2000, c);
    table.keep_for_rollback(st, 1);
    st.snapshot.take(*m.columns[1], st.obj.get());
  }
  EXPECT_EQ(st.snapshot[1].to_value(), Value{std::string(2000, 'd')});
  st.restore_saved();
  table.release_saved();
  EXPECT_EQ(st.snapshot[1].to_value(), Value{std::string(2000, 'a')})
      << "rollback did not restore the value the transaction began with";
  EXPECT_FALSE(st.txn_saved());
  EXPECT_EQ(arena.stored_bytes() - arena.garbage_bytes(), 2000u)
      << "the live bytes are not the restored value's";
  table.compact_snapshots();
  EXPECT_EQ(st.snapshot.arena().stored_bytes(), 2000u);
  EXPECT_EQ(st.snapshot[1].to_value(), Value{std::string(2000, 'a')});
}

// Saved cells of many states come from blocks shared between them: each state gets back its
// own cells, columns not saved stay as they are, and a later transaction starts clean.
TEST_F(SnapshotTable, saved_cells_of_many_states_are_kept_apart_across_transactions) {
  std::vector<InstanceState*> states;
  for (std::int64_t i = 0; i < 1000; ++i)  // 3 cells each: several blocks
    states.push_back(&add(Memo{.id = i, .text = "before " + std::to_string(i)}));
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < states.size(); ++i) {
      auto& st = *states[i];
      if (i % 7 == 3) continue;  // not updated in this transaction
      memo(st).text = "round " + std::to_string(round) + " of " + std::to_string(i);
      table.keep_for_rollback(st, 1);
      st.snapshot.take(*m.columns[1], st.obj.get());
      table.keep_for_rollback(st, 1);  // a second UPDATE keeps the first saved cell
      memo(st).text += " again";
      st.snapshot.take(*m.columns[1], st.obj.get());
    }
    for (std::size_t i = 0; i < states.size(); ++i) {
      auto& st = *states[i];
      ASSERT_EQ(st.txn_saved() != nullptr, i % 7 != 3) << i;
      if (!st.txn_saved()) continue;
      EXPECT_FALSE(st.saved(0)) << i;
      EXPECT_TRUE(st.saved(1)) << i;
      EXPECT_FALSE(st.saved(2)) << i;
    }
    if (round == 0) {  // commit: the new values stand, the saved cells go
      table.release_saved();
      for (auto* st : states) ASSERT_FALSE(st->txn_saved()) << "a commit left saved cells";
      for (std::size_t i = 0; i < states.size(); ++i) {
        if (i % 7 == 3) continue;
        ASSERT_EQ(states[i]->snapshot[1].to_value(),
                  Value{"round 0 of " + std::to_string(i) + " again"}) << i;
      }
    } else {  // rollback: back to what the commit left
      for (auto* st : states) st->restore_saved();
      table.release_saved();
      for (std::size_t i = 0; i < states.size(); ++i) {
        const std::string expected = i % 7 == 3 ? "before " + std::to_string(i)
                                                : "round 0 of " + std::to_string(i) + " again";
        ASSERT_EQ(states[i]->snapshot[1].to_value(), Value{expected}) << i;
        ASSERT_FALSE(states[i]->txn_saved()) << i;
      }
    }
  }
}

TEST_F(SnapshotTable, an_erased_state_lets_go_of_its_bytes_and_its_slot_starts_empty) {
  auto& a = add(Memo{.id = 1, .text = std::string(30, 'a')});
  auto& b = add(Memo{.id = 2, .text = std::string(40, 'b')});
  const auto& arena = a.snapshot.arena();
  InstanceState* slot = &a;
  table.keep_for_rollback(a, 1);  // both updated in a transaction that goes on
  table.keep_for_rollback(b, 1);
  table.erase(a);
  EXPECT_TRUE(b.saved(1)) << "erasing one state dropped another's saved cells";
  EXPECT_EQ(arena.garbage_bytes(), 30u);
  auto& reused = table.add(m, std::make_shared<Memo>());
  EXPECT_EQ(&reused, slot) << "the erased slot was not reused";
  for (std::size_t i = 0; i < m.columns.size(); ++i)
    EXPECT_EQ(reused.snapshot[i].kind(), ValueRef::Kind::none) << i;
  EXPECT_FALSE(reused.txn_saved()) << "the slot's next state took its old saved cells";
  EXPECT_EQ(table.size(), 2u);
  table.release_saved();
}

// The scan before lazy loads: every chunk (256 states), persistent objects only, erased slots
// skipped, long text compared with its arena bytes.
TEST_F(SnapshotTable, the_scan_for_a_changed_column_visits_persistent_objects_of_every_chunk) {
  const auto& text = *m.columns[1];
  std::vector<InstanceState*> states;
  for (int i = 0; i < 600; ++i) {
    states.push_back(&add(Memo{.id = i + 1, .text = "memo " + std::string(20, 'x')}));
    states.back()->status = strata::detail::ObjectStatus::persistent;
  }
  EXPECT_FALSE(table.any_persistent_changed(m, text));
  for (int i = 0; i < 600; i += 7) table.erase(*states[static_cast<std::size_t>(i)]);
  EXPECT_FALSE(table.any_persistent_changed(m, text));

  InstanceState& last = *states[599];  // the third chunk
  memo(last).text.back() = 'y';
  EXPECT_TRUE(table.any_persistent_changed(m, text)) << "a change in the last chunk went unseen";
  EXPECT_FALSE(table.any_persistent_changed(m, *m.columns[2])) << "another column looks changed";
  last.status = strata::detail::ObjectStatus::pending;
  EXPECT_FALSE(table.any_persistent_changed(m, text)) << "a pending object was scanned";
  last.status = strata::detail::ObjectStatus::persistent;
  take(last);
  EXPECT_FALSE(table.any_persistent_changed(m, text));
  memo(*states[1]).text.clear();  // the first chunk
  EXPECT_TRUE(table.any_persistent_changed(m, text));
}

}  // namespace

namespace {

// A chunk holds its snapshots column by column: the cells of 600 states over three chunks read
// back as each state's own, before and after their arenas are compacted.
TEST_F(SnapshotTable, the_snapshots_of_many_states_keep_their_columns_apart) {
  std::vector<InstanceState*> states;
  auto text_of = [](int i, char c) { return std::string(30 + i % 7, c) + std::to_string(i); };
  for (int i = 0; i < 600; ++i)
    states.push_back(&add(Memo{.id = i + 1, .text = text_of(i, 'a'),
                               .data = blob_of("blob " + std::to_string(i))}));
  for (int round = 0; round < 3; ++round)  // garbage in every arena
    for (int i = 0; i < 600; ++i) {
      memo(*states[static_cast<std::size_t>(i)]).text = text_of(i, static_cast<char>('b' + round));
      take(*states[static_cast<std::size_t>(i)]);
    }
  auto expect_own_cells = [&](const char* when) {
    for (int i = 0; i < 600; ++i) {
      const auto& snapshot = states[static_cast<std::size_t>(i)]->snapshot;
      ASSERT_EQ(snapshot[0].to_value(), Value{std::int64_t{i + 1}}) << when << ", state " << i;
      ASSERT_EQ(snapshot[1].to_value(), Value{text_of(i, 'd')}) << when << ", state " << i;
      ASSERT_EQ(snapshot[2].to_value(), Value{blob_of("blob " + std::to_string(i))})
          << when << ", state " << i;
      ASSERT_TRUE(unchanged(*states[static_cast<std::size_t>(i)])) << when << ", state " << i;
    }
  };
  expect_own_cells("before compaction");
  ASSERT_TRUE(states[0]->snapshot.arena().worth_compacting());
  table.compact_snapshots();
  EXPECT_EQ(states[599]->snapshot.arena().garbage_bytes(), 0u);
  expect_own_cells("after compaction");
}

// An erased slot's next object is the one the scan reads: a change to it is seen, and the
// erased object is not read again.
TEST_F(SnapshotTable, the_scan_reads_the_object_that_reuses_an_erased_slot) {
  const auto& text = *m.columns[1];
  std::vector<InstanceState*> states;
  for (int i = 0; i < 300; ++i) {
    states.push_back(&add(Memo{.id = i + 1, .text = "memo"}));
    states.back()->status = strata::detail::ObjectStatus::persistent;
  }
  InstanceState* slot = states[260];  // in the second chunk
  table.erase(*slot);
  auto& reused = add(Memo{.id = 1000, .text = "new"});
  ASSERT_EQ(&reused, slot) << "the erased slot was not reused";
  reused.status = strata::detail::ObjectStatus::persistent;
  EXPECT_FALSE(table.any_persistent_changed(m, text));
  memo(reused).text = "changed";
  EXPECT_TRUE(table.any_persistent_changed(m, text)) << "the slot's new object went unread";
  table.erase(reused);
  EXPECT_FALSE(table.any_persistent_changed(m, text)) << "an erased object was read";
}

}  // namespace
