// The session's two indexes: the identity map (one state per mapper and primary key) and the
// state table's index by object address. Keys of every shape a hash could pile up (consecutive,
// multiples of powers of two, negative, extreme) and two mappers sharing keys: every state is
// found, replaced and erased as it should be.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "strata/strata.hpp"

namespace {

struct Tag {
  std::int64_t id = 0;
};
struct Other {
  std::int64_t id = 0;
};

}  // namespace

template <>
struct strata::Model<Tag> {
  static constexpr auto table = "tag";
  static auto columns() { return mapping(column("id", &Tag::id).primary_key()); }
};
template <>
struct strata::Model<Other> {
  static constexpr auto table = "other";
  static auto columns() { return mapping(column("id", &Other::id).primary_key()); }
};

namespace {

using strata::Value;
using strata::detail::IdentityMap;
using strata::detail::InstanceState;
using strata::detail::StateTable;

std::vector<std::int64_t> awkward_keys() {
  std::vector<std::int64_t> keys;
  for (std::int64_t i = 0; i < 3000; ++i) {
    keys.push_back(i + 1);             // consecutive
    keys.push_back((i + 1) * 4096);
    keys.push_back((i + 1) * 1024 + 7);
    keys.push_back(-(i + 1) * 65536);  // negative, far apart
    keys.push_back(std::int64_t{1} << (i % 62));
  }
  keys.push_back(std::numeric_limits<std::int64_t>::max());
  keys.push_back(std::numeric_limits<std::int64_t>::min());
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

TEST(IdentityMap, finds_every_key_of_every_shape_per_mapper) {
  const auto& tag = strata::mapper_of<Tag>();
  const auto& other = strata::mapper_of<Other>();
  const auto keys = awkward_keys();
  StateTable table;
  IdentityMap map;
  std::vector<InstanceState*> tags, others;
  for (auto k : keys) {
    auto& t = table.add(tag, std::make_shared<Tag>(Tag{k}));
    t.key = Value{k};
    map.put(&t);
    tags.push_back(&t);
    auto& o = table.add(other, std::make_shared<Other>(Other{k}));
    o.key = Value{k};
    map.put(&o);
    others.push_back(&o);
  }
  EXPECT_EQ(map.size(), 2 * keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(map.find(&tag, Value{keys[i]}), tags[i]) << keys[i];
    ASSERT_EQ(map.find(&other, Value{keys[i]}), others[i]) << "another mapper's key " << keys[i];
  }
  EXPECT_EQ(map.find(&tag, Value{std::string("1")}), nullptr) << "text found an integer key";

  // Every other key erased: the rest still found, the erased ones not.
  for (std::size_t i = 0; i < keys.size(); i += 2) map.erase(&tag, Value{keys[i]});
  for (std::size_t i = 0; i < keys.size(); ++i)
    ASSERT_EQ(map.find(&tag, Value{keys[i]}), i % 2 ? tags[i] : nullptr) << keys[i];
  // put() of another state with a held key replaces it.
  auto& again = table.add(tag, std::make_shared<Tag>(Tag{keys[1]}));
  again.key = Value{keys[1]};
  map.put(&again);
  EXPECT_EQ(map.find(&tag, Value{keys[1]}), &again);
  map.erase_if_is(tags[1]);  // no longer the state of its key: nothing happens
  EXPECT_EQ(map.find(&tag, Value{keys[1]}), &again);
}

// Integer keys are held in runs of consecutive keys: keys on both sides of run boundaries
// (around 0 and the extremes too), runs emptied and filled again, text keys of the same mapper
// beside them, and size(), empty() and holds() kept right throughout.
TEST(IdentityMap, runs_of_integer_keys_fill_empty_and_refill) {
  const auto& tag = strata::mapper_of<Tag>();
  const auto& other = strata::mapper_of<Other>();
  constexpr auto lowest = std::numeric_limits<std::int64_t>::min();
  constexpr auto highest = std::numeric_limits<std::int64_t>::max();
  const std::vector<std::int64_t> keys = {-17, -16, -9, -8, -7, -1, 0, 1, 7, 8, 9, 15, 16,
                                          lowest, lowest + 7, lowest + 8, highest - 8,
                                          highest - 7, highest};
  StateTable table;
  IdentityMap map;
  std::vector<InstanceState*> states;
  for (auto k : keys) {
    auto& st = table.add(tag, std::make_shared<Tag>(Tag{k}));
    st.key = Value{k};
    map.put(&st);
    states.push_back(&st);
  }
  auto& named = table.add(tag, std::make_shared<Tag>(Tag{0}));
  named.key = Value{std::string("8")};  // a text key beside the integer 8
  map.put(&named);
  EXPECT_EQ(map.size(), keys.size() + 1);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(map.find(&tag, Value{keys[i]}), states[i]) << keys[i];
    ASSERT_EQ(map.find(&other, Value{keys[i]}), nullptr) << keys[i];
  }
  for (std::int64_t k : {-15, -10, -2, 2, 6, 10, 14, 17})
    EXPECT_EQ(map.find(&tag, Value{k}), nullptr) << k;
  EXPECT_EQ(map.find(&tag, Value{std::string("8")}), &named);
  EXPECT_TRUE(map.holds(&tag));
  EXPECT_FALSE(map.holds(&other));

  // put() of a state already held changes nothing; of another state for a held key, replaces.
  map.put(states[0]);
  EXPECT_EQ(map.size(), keys.size() + 1);
  auto& again = table.add(tag, std::make_shared<Tag>(Tag{8}));
  again.key = Value{std::int64_t{8}};
  map.put(&again);
  EXPECT_EQ(map.size(), keys.size() + 1);
  EXPECT_EQ(map.find(&tag, Value{std::int64_t{8}}), &again);
  map.erase_if_is(states[9]);  // the replaced state of 8: nothing happens
  EXPECT_EQ(map.find(&tag, Value{std::int64_t{8}}), &again);
  EXPECT_EQ(map.size(), keys.size() + 1);

  // Every integer key taken out, half by key and half by state: their runs go, the text key stays.
  states[9] = &again;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i % 2) map.erase(&tag, Value{keys[i]});
    else map.erase_if_is(states[i]);
    map.erase(&tag, Value{keys[i]});  // a second time: nothing to take out
  }
  EXPECT_EQ(map.size(), 1u);
  for (auto k : keys) ASSERT_EQ(map.find(&tag, Value{k}), nullptr) << k;
  EXPECT_TRUE(map.holds(&tag)) << "the text key's state";
  map.erase_if_is(&named);
  EXPECT_TRUE(map.empty());
  EXPECT_FALSE(map.holds(&tag));

  // Filled again, from another mapper too, after reserve().
  map.reserve(64);
  for (std::size_t i = 0; i < keys.size(); ++i) map.put(states[i]);
  auto& o = table.add(other, std::make_shared<Other>(Other{-8}));
  o.key = Value{std::int64_t{-8}};
  map.put(&o);
  EXPECT_EQ(map.size(), keys.size() + 1);
  EXPECT_EQ(map.find(&other, Value{std::int64_t{-8}}), &o);
  EXPECT_EQ(map.find(&tag, Value{std::int64_t{-8}}), states[3]);
  EXPECT_TRUE(map.holds(&other));
  map.clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.find(&tag, Value{std::int64_t{0}}), nullptr);
}

// A load looks a key up and puts its new state with one probe (slot_for, then fill); a load
// that fails in between leaves an empty slot that nothing counts or finds.
TEST(IdentityMap, a_slot_found_for_a_load_is_filled_or_left_empty) {
  const auto& tag = strata::mapper_of<Tag>();
  StateTable table;
  IdentityMap map;
  auto** slot = map.slot_for(&tag, 42);
  ASSERT_NE(slot, nullptr);
  EXPECT_EQ(*slot, nullptr);
  EXPECT_TRUE(map.empty()) << "a slot found is not a state held";
  EXPECT_FALSE(map.holds(&tag));
  EXPECT_EQ(map.find(&tag, Value{std::int64_t{42}}), nullptr);
  slot = map.slot_for(&tag, 42);  // the load ran again
  auto& st = table.add(tag, std::make_shared<Tag>(Tag{42}));
  st.key = Value{std::int64_t{42}};
  map.fill(slot, &st);
  EXPECT_EQ(map.size(), 1u);
  EXPECT_TRUE(map.holds(&tag));
  EXPECT_EQ(map.find(&tag, Value{std::int64_t{42}}), &st);
  EXPECT_EQ(*map.slot_for(&tag, 42), &st);
  EXPECT_EQ(*map.slot_for(&tag, 43), nullptr) << "its neighbour in the run";
  map.erase_if_is(&st);
  EXPECT_TRUE(map.empty());
}

// The map remembers the run it last found or added. Each way the table of runs changes (a run
// emptied and dropped, room reserved, the table grown, cleared) must not leave a state put
// through the remembered run where a lookup of another run, then of this one, misses it.
TEST(IdentityMap, the_run_last_used_is_forgotten_when_the_runs_change) {
  const auto& tag = strata::mapper_of<Tag>();
  const auto& other = strata::mapper_of<Other>();
  StateTable table;
  IdentityMap map;
  auto state = [&](std::int64_t k) -> InstanceState* {
    auto& st = table.add(tag, std::make_shared<Tag>(Tag{k}));
    st.key = Value{k};
    return &st;
  };
  // A state far from the others: finding it makes its run the one remembered.
  const std::int64_t far = std::int64_t{1} << 40;
  auto* far_state = state(far);
  auto found_after_another_run = [&](std::int64_t k) {
    EXPECT_EQ(map.find(&tag, Value{far}), far_state);
    EXPECT_EQ(map.find(&other, Value{k}), nullptr) << "another mapper's key " << k;
    return map.find(&tag, Value{k});
  };
  map.put(far_state);

  // The run of 1 is dropped when 1 goes; 2 goes into a new run of the same keys.
  map.put(state(1));
  map.erase(&tag, Value{std::int64_t{1}});
  auto* two = state(2);
  map.put(two);
  EXPECT_EQ(found_after_another_run(2), two);

  // reserve() moves the runs.
  map.reserve(100000);
  auto* three = state(3);
  map.put(three);
  EXPECT_EQ(found_after_another_run(3), three);
  EXPECT_EQ(found_after_another_run(2), two);

  // Growing the table moves them too: many runs added between uses of the first one.
  std::vector<InstanceState*> many;
  for (std::int64_t k = 8; k < 8 * 5000; k += 8) {
    many.push_back(state(k));
    map.put(many.back());
    auto* near = state(k + 1);  // the same run, through the remembered run
    map.fill(map.slot_for(&tag, k + 1), near);
    ASSERT_EQ(found_after_another_run(k + 1), near) << k + 1;
  }
  for (auto* st : many) ASSERT_EQ(found_after_another_run(st->key.ref().as_integer()), st);

  // clear() drops every run.
  map.clear();
  auto* four = state(4);
  map.put(four);
  map.put(far_state);
  EXPECT_EQ(found_after_another_run(4), four);
  EXPECT_EQ(map.find(&tag, Value{std::int64_t{2}}), nullptr);
  EXPECT_EQ(map.size(), 2u);
}

// A state is what the session keeps per object beside the object itself: its size is part of
// every loaded object's cost (the session is kept per chunk of states, not per state).
TEST(StateTable, a_state_takes_80_bytes) {
  EXPECT_LE(sizeof(InstanceState), 80u);
}

TEST(StateTable, finds_every_object_by_address_across_chunks_and_erased_slots) {
  const auto& tag = strata::mapper_of<Tag>();
  StateTable table;
  std::vector<std::shared_ptr<Tag>> objects;
  std::vector<InstanceState*> states;
  for (std::int64_t i = 0; i < 5000; ++i) {
    objects.push_back(std::make_shared<Tag>(Tag{i}));
    states.push_back(&table.add(tag, objects.back()));
  }
  for (std::size_t i = 0; i < objects.size(); ++i)
    ASSERT_EQ(table.find(objects[i].get()), states[i]) << i;
  for (std::size_t i = 0; i < objects.size(); i += 3) table.erase(*states[i]);
  for (std::size_t i = 0; i < objects.size(); ++i)
    ASSERT_EQ(table.find(objects[i].get()), i % 3 ? states[i] : nullptr) << i;
  EXPECT_EQ(table.size(), objects.size() - (objects.size() + 2) / 3);
  Tag not_held;
  EXPECT_EQ(table.find(&not_held), nullptr);
}

// The index by address is built by the first find(): states added, erased and put in reused
// slots before it must all be right, and so must those changed after it and after a clear().
TEST(StateTable, index_by_address_built_late_agrees_with_the_states) {
  const auto& tag = strata::mapper_of<Tag>();
  const auto& other = strata::mapper_of<Other>();
  StateTable table;
  std::vector<std::shared_ptr<void>> objects;  // kept alive: no address is reused
  std::vector<InstanceState*> states;
  auto add = [&](std::int64_t i) {
    if (i % 2) objects.push_back(std::make_shared<Tag>(Tag{i}));
    else objects.push_back(std::make_shared<Other>(Other{i}));
    states.push_back(&table.add(i % 2 ? tag : other, objects.back()));
  };
  auto expect_all = [&](const char* when) {
    std::size_t live = 0;
    for (std::size_t i = 0; i < objects.size(); ++i) {
      ASSERT_EQ(table.find(objects[i].get()), states[i]) << when << ", object " << i;
      if (states[i]) ++live;
    }
    EXPECT_EQ(table.size(), live) << when;
  };
  for (std::int64_t i = 0; i < 1500; ++i) add(i);
  for (std::size_t i = 0; i < objects.size(); i += 4) {  // before any find()
    table.erase(*states[i]);
    states[i] = nullptr;
  }
  for (std::int64_t i = 1500; i < 2000; ++i) add(i);  // into the erased slots, then new chunks
  expect_all("first find");
  for (std::size_t i = 1; i < objects.size(); i += 5) {  // the index is kept from now on
    if (!states[i]) continue;
    table.erase(*states[i]);
    states[i] = nullptr;
  }
  for (std::int64_t i = 2000; i < 2600; ++i) add(i);
  expect_all("after the first find");
  table.clear();
  std::fill(states.begin(), states.end(), nullptr);
  expect_all("after clear()");
  for (std::int64_t i = 2600; i < 2700; ++i) add(i);
  expect_all("filled again after clear()");
}

}  // namespace
