// The blocks a session's loaded objects are allocated from (object_block.hpp): every object
// gets memory of its own, suitably aligned, destroyed when its last owner lets go; blocks go
// back to the heap once their holder and all their objects are done with them, whichever comes
// last and on whichever thread. Leaks and uses after free are the sanitizers' to report.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "strata/orm/object_block.hpp"

namespace {

using strata::detail::BlockAllocator;
using strata::detail::ObjectBlock;
using strata::detail::ObjectBlocks;

std::atomic<int> live{0};  // Counted objects alive (destroyed on other threads too)

struct Counted {
  Counted() { ++live; }
  ~Counted() { --live; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  std::int64_t id = 0;
  std::string name;  // long enough to live on the heap: a leak if never destroyed
};

std::shared_ptr<Counted> make(ObjectBlocks& blocks, std::int64_t id) {
  auto p = std::allocate_shared<Counted>(BlockAllocator<Counted>(blocks.next()));
  p->id = id;
  p->name = "object number " + std::to_string(id) + " with a name too long for the string";
  return p;
}

TEST(ObjectBlock, objects_over_many_blocks_are_distinct_and_die_with_their_last_owner) {
  std::vector<std::shared_ptr<Counted>> objects;
  {
    ObjectBlocks blocks;
    for (int i = 0; i < 2000; ++i) objects.push_back(make(blocks, i));  // dozens of blocks
  }
  ASSERT_EQ(live, 2000);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(objects[static_cast<std::size_t>(i)]->id, i);
  std::vector<const void*> addresses;
  for (const auto& o : objects) addresses.push_back(o.get());
  std::sort(addresses.begin(), addresses.end());
  for (std::size_t i = 1; i < addresses.size(); ++i)  // no two overlap
    EXPECT_GE(static_cast<const char*>(addresses[i]) - static_cast<const char*>(addresses[i - 1]),
              static_cast<std::ptrdiff_t>(sizeof(Counted)));

  // Let go of them in a random order: each dies then, not with its block.
  std::mt19937 rng(7);
  std::shuffle(objects.begin(), objects.end(), rng);
  for (std::size_t i = 0; i < objects.size(); ++i) {
    objects[i].reset();
    ASSERT_EQ(live, static_cast<int>(objects.size() - i - 1));
  }
}

TEST(ObjectBlock, objects_outlive_the_holder_of_their_block) {
  std::shared_ptr<Counted> kept;
  {
    ObjectBlocks blocks;
    for (int i = 0; i < 10; ++i) {
      auto o = make(blocks, i);
      if (i == 5) kept = o;
    }
    EXPECT_EQ(live, 1);  // the others died while the block was held
  }
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->id, 5);
  kept->name.append(100, 'x');  // still writable after the holder let go
  kept.reset();
  EXPECT_EQ(live, 0);
}

TEST(ObjectBlock, a_holder_moved_from_holds_nothing) {
  ObjectBlocks a;
  auto first = make(a, 1);
  ObjectBlocks b = std::move(a);
  auto second = make(b, 2);
  ObjectBlocks c;
  c = std::move(b);
  auto third = make(c, 3);
  EXPECT_EQ(first->id + second->id + third->id, 6);
}

TEST(ObjectBlock, objects_released_on_other_threads_free_their_blocks_once) {
  constexpr int rounds = 20, per_round = 500;
  for (int r = 0; r < rounds; ++r) {
    std::vector<std::shared_ptr<Counted>> objects;
    ObjectBlocks blocks;
    for (int i = 0; i < per_round; ++i) objects.push_back(make(blocks, i));
    // Two threads let go of half each, while this one goes on allocating from the blocks.
    std::vector<std::shared_ptr<Counted>> left(objects.begin(), objects.begin() + per_round / 2);
    std::vector<std::shared_ptr<Counted>> right(objects.begin() + per_round / 2, objects.end());
    objects.clear();
    std::thread t1([v = std::move(left)]() mutable { v.clear(); });
    std::thread t2([v = std::move(right)]() mutable { v.clear(); });
    std::vector<std::shared_ptr<Counted>> more;
    for (int i = 0; i < per_round; ++i) more.push_back(make(blocks, i));
    t1.join();
    t2.join();
    EXPECT_EQ(live, per_round);
  }
  EXPECT_EQ(live, 0);
}

struct alignas(64) Wide {
  unsigned char bytes[64] = {};
};

TEST(ObjectBlock, over_aligned_objects_are_aligned) {
  ObjectBlocks blocks;
  std::vector<std::shared_ptr<Wide>> objects;
  for (int i = 0; i < 300; ++i) {
    objects.push_back(std::allocate_shared<Wide>(BlockAllocator<Wide>(blocks.next())));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(objects.back().get()) % 64, 0u);
    std::memset(objects.back()->bytes, i & 0xff, sizeof(Wide::bytes));
  }
  for (std::size_t i = 0; i < objects.size(); ++i)
    EXPECT_EQ(objects[i]->bytes[63], static_cast<unsigned char>(i & 0xff));
}

struct Throws {
  Throws() { throw std::runtime_error("no"); }
  std::string name;
};

TEST(ObjectBlock, a_constructor_that_throws_gives_its_piece_back) {
  ObjectBlocks blocks;
  for (int i = 0; i < 100; ++i)
    EXPECT_THROW(std::allocate_shared<Throws>(BlockAllocator<Throws>(blocks.next())),
                 std::runtime_error);
  auto ok = make(blocks, 1);  // the block is still usable
  EXPECT_EQ(ok->id, 1);
}

TEST(ObjectBlock, a_piece_that_does_not_fit_is_refused) {
  ObjectBlock* block = ObjectBlock::open();
  EXPECT_THROW(block->take(ObjectBlock::bytes, 8), std::bad_alloc);
  void* p = block->take(ObjectBlock::max_object, 8);
  EXPECT_NE(p, nullptr);
  block->release();  // the piece; the block stays held
  block->close();    // freed now: nothing in use
}

}  // namespace
