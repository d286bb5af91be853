// The session's object table and identity map (session_core.hpp): states in chunks, found
// through open-addressing hash tables (Abseil's), so that loading n rows allocates no
// per-object index nodes and closing the session frees a few hundred states at a time; and the
// blocks the session's loaded objects are allocated from (object_block.hpp).
#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

#include "strata/orm/session_core.hpp"

namespace strata::detail {

// ---- IdentityMap ---------------------------------------------------------------------------

namespace {

struct KeyRef {  // a lookup without a state
  const Mapper* mapper;
  ValueRef key;
};

std::size_t identity_hash(const Mapper* m, const ValueRef& key) noexcept {
  switch (key.kind()) {
    case ValueRef::Kind::integer:
      return absl::Hash<std::tuple<const void*, std::int64_t>>()({m, key.as_integer()});
    case ValueRef::Kind::text:
      return absl::Hash<std::tuple<const void*, std::string_view>>()({m, key.bytes()});
    case ValueRef::Kind::real:
      return absl::Hash<std::tuple<const void*, double>>()({m, key.as_real()});
    default:
      return absl::Hash<const void*>()(m);
  }
}

struct IdentityHash {
  using is_transparent = void;
  std::size_t operator()(const InstanceState* s) const noexcept {
    return identity_hash(s->mapper, s->key.ref());
  }
  std::size_t operator()(const KeyRef& r) const noexcept { return identity_hash(r.mapper, r.key); }
};

struct IdentityEq {
  using is_transparent = void;
  bool operator()(const InstanceState* a, const InstanceState* b) const noexcept {
    return a->mapper == b->mapper && a->key.ref() == b->key.ref();
  }
  bool operator()(const KeyRef& a, const InstanceState* b) const noexcept {
    return a.mapper == b->mapper && a.key == b->key.ref();
  }
  bool operator()(const InstanceState* a, const KeyRef& b) const noexcept {
    return a->mapper == b.mapper && a->key.ref() == b.key;
  }
};

}  // namespace

// Integer keys, the common case, go in runs of 8 consecutive keys of one mapper, found by
// key >> 3 in a hash table: rows read in key order (a table's autoincrement keys) fill one run
// after another, so a load of n rows makes n / 8 random accesses into the table rather than n,
// and a run of 8 states is one cache line. Keys far apart take a run each (80 bytes with its
// key, against about 16 for a pointer in a set): the price of sparse keys. Keys of any other
// kind (text, composite) go in a set of state pointers hashed by the key each state holds.
struct IdentityMap::Set {
  static constexpr int run_bits = 3;
  static constexpr std::int64_t run_mask = (1 << run_bits) - 1;
  struct Run {
    InstanceState* states[1 << run_bits] = {};
    bool empty() const noexcept {
      for (const auto* s : states)
        if (s) return false;
      return true;
    }
  };
  using RunKey = std::pair<const Mapper*, std::int64_t>;  // (mapper, key >> run_bits)
  static RunKey run_of(const Mapper* m, std::int64_t key) noexcept { return {m, key >> run_bits}; }
  static std::size_t at(std::int64_t key) noexcept {
    return static_cast<std::size_t>(key & run_mask);
  }

  absl::flat_hash_map<RunKey, Run> runs;
  absl::flat_hash_set<InstanceState*, IdentityHash, IdentityEq> others;
  std::size_t size = 0;
  // The run last found or added: rows loaded in key order fall into it 7 times in 8. The
  // pointer is valid until runs next changes; every change sets or forgets it.
  RunKey last_key{nullptr, 0};
  Run* last = nullptr;

  Run* cached(const RunKey& k) const noexcept { return last && last_key == k ? last : nullptr; }
  Run* remember(const RunKey& k, Run& run) noexcept {
    last_key = k;
    return last = &run;
  }
  void forget() noexcept { last = nullptr; }

  // The slot of an integer key, or null when its run is not in the table.
  InstanceState** slot(const Mapper* m, std::int64_t key) {
    const RunKey k = run_of(m, key);
    Run* run = cached(k);
    if (!run) {
      auto it = runs.find(k);
      if (it == runs.end()) return nullptr;
      run = remember(k, it->second);
    }
    return &run->states[at(key)];
  }
  // The slot of an integer key, its run added (empty) when it was not in the table.
  InstanceState*& slot_added(const Mapper* m, std::int64_t key) {
    const RunKey k = run_of(m, key);
    Run* run = cached(k);
    if (!run) run = remember(k, runs[k]);
    return run->states[at(key)];
  }
  void erase_other(decltype(others)::iterator it) {
    others.erase(it);
    --size;
  }
  // Empties an integer key's slot that holds a state; drops the run when it is left empty.
  void take_out(const Mapper* m, std::int64_t key, const InstanceState* only) {
    auto it = runs.find(run_of(m, key));
    if (it == runs.end()) return;
    auto& held = it->second.states[at(key)];
    if (!held || (only && held != only)) return;
    held = nullptr;
    --size;
    if (it->second.empty()) {
      forget();
      runs.erase(it);
    }
  }
};

IdentityMap::IdentityMap() : set_(std::make_unique<Set>()) {}
IdentityMap::~IdentityMap() = default;

InstanceState* IdentityMap::find(const Mapper* m, const Value& key) const {
  if (const auto* i = std::get_if<std::int64_t>(&key)) {
    auto** slot = set_->slot(m, *i);
    return slot ? *slot : nullptr;
  }
  auto it = set_->others.find(KeyRef{m, ValueRef(key)});
  return it == set_->others.end() ? nullptr : *it;
}

void IdentityMap::put(InstanceState* s) {
  const ValueRef key = s->key.ref();
  if (key.kind() == ValueRef::Kind::integer) {
    auto& held = set_->slot_added(s->mapper, key.as_integer());
    if (!held) ++set_->size;
    held = s;
    return;
  }
  auto [it, inserted] = set_->others.insert(s);
  if (inserted) {
    ++set_->size;
  } else if (*it != s) {
    set_->others.erase(it);
    set_->others.insert(s);
  }
}

InstanceState** IdentityMap::slot_for(const Mapper* m, std::int64_t key) {
  return &set_->slot_added(m, key);
}

void IdentityMap::fill(InstanceState** slot, InstanceState* s) noexcept {
  *slot = s;
  ++set_->size;
}

void IdentityMap::erase(const Mapper* m, const Value& key) {
  if (const auto* i = std::get_if<std::int64_t>(&key)) return set_->take_out(m, *i, nullptr);
  auto it = set_->others.find(KeyRef{m, ValueRef(key)});
  if (it != set_->others.end()) set_->erase_other(it);
}

void IdentityMap::erase_if_is(InstanceState* s) {
  const ValueRef key = s->key.ref();
  if (key.kind() == ValueRef::Kind::integer) return set_->take_out(s->mapper, key.as_integer(), s);
  auto it = set_->others.find(s);
  if (it != set_->others.end() && *it == s) set_->erase_other(it);
}

bool IdentityMap::holds(const Mapper* m) const {
  for (const auto& [run, states] : set_->runs)  // (a load that failed may leave a run empty)
    if (run.first == m && !states.empty()) return true;
  for (const auto* s : set_->others)
    if (s->mapper == m) return true;
  return false;
}

bool IdentityMap::empty() const noexcept { return set_->size == 0; }

std::size_t IdentityMap::size() const noexcept { return set_->size; }

void IdentityMap::reserve(std::size_t n) {
  // Room for n integer keys in runs of consecutive keys; other keys grow their set as needed.
  set_->forget();
  set_->runs.reserve(n >> Set::run_bits);
}

void IdentityMap::clear() noexcept {
  set_->forget();
  set_->runs.clear();
  set_->others.clear();
  set_->size = 0;
}

// ---- Snapshots -----------------------------------------------------------------------------

const char* SnapshotArena::store_in_new_block(std::string_view bytes) {
  // Blocks filled in turn double from 1 KiB to 64 KiB. A value larger than a quarter of that
  // gets a block of its own, and the block being filled stays current.
  constexpr std::size_t first = 1024, largest = 64 * 1024;
  const std::size_t n = bytes.size();
  if (n > largest / 4) {
    auto& own = blocks_.emplace_back(std::make_unique_for_overwrite<char[]>(n));
    std::memcpy(own.get(), bytes.data(), n);
    return own.get();
  }
  block_size_ = block_size_ == 0 ? first : std::min(block_size_ * 2, largest);
  while (block_size_ < n) block_size_ *= 2;  // n <= largest / 4: stays within largest
  auto& block = blocks_.emplace_back(std::make_unique_for_overwrite<char[]>(block_size_));
  std::memcpy(block.get(), bytes.data(), n);
  next_ = block.get() + n;
  left_ = block_size_ - n;
  return block.get();
}

void SnapshotCell::store_in(SnapshotArena& arena, std::string_view bytes) {
  if (bytes.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("strata: a snapshot value is larger than 4 GiB");
  const char* p = arena.store(bytes);
  const auto n = static_cast<std::uint32_t>(bytes.size());
  std::memcpy(raw_, &p, sizeof p);
  std::memcpy(raw_ + 8, &n, sizeof n);
}

// ---- Object blocks -------------------------------------------------------------------------

ObjectBlock::ObjectBlock() noexcept
    : next_(reinterpret_cast<unsigned char*>(this) + sizeof(ObjectBlock)),
      left_(bytes - sizeof(ObjectBlock)) {}

ObjectBlock* ObjectBlock::open() {
  static_assert(sizeof(ObjectBlock) + max_object <= bytes);
  return ::new (::operator new(bytes)) ObjectBlock();
}

void* ObjectBlock::take(std::size_t n, std::size_t align) {
  void* p = next_;
  std::size_t space = left_;
  if (!std::align(align, n, p, space)) throw std::bad_alloc();
  next_ = static_cast<unsigned char*>(p) + n;
  left_ = space - n;
  last_ = n + align - 1;  // what the next piece of this size needs, with padding at worst
  ++taken_;
  return p;
}

void ObjectBlock::close() noexcept {
  const std::int64_t drop = held_bias - taken_;
  if (refs_.fetch_sub(drop, std::memory_order_acq_rel) == drop) destroy();
}

void ObjectBlock::destroy() noexcept {
  this->~ObjectBlock();
  ::operator delete(this);
}

void ObjectBlocks::refill() {
  ObjectBlock* fresh = ObjectBlock::open();
  if (current_) current_->close();
  current_ = fresh;
}

// ---- StateTable ----------------------------------------------------------------------------

// The index by object address is built on the first find() and kept from then on: a session
// that only loads or inserts objects (and never looks one up by address) spends nothing on it,
// and one that does builds it in one pass into a table sized for it.
struct StateTable::Index {
  absl::flat_hash_map<const void*, InstanceState*> by_object;
  bool built = false;
};

StateTable::StateTable(SessionCore* session)
    : index_(std::make_unique<Index>()), session_(session) {}
StateTable::~StateTable() = default;

InstanceState* StateTable::find(const void* obj) const {
  if (!index_->built) build_index();
  auto it = index_->by_object.find(obj);
  return it == index_->by_object.end() ? nullptr : it->second;
}

void StateTable::build_index() const {
  auto& by_object = index_->by_object;
  by_object.reserve(live_);
  for (auto& st : *this) by_object.emplace(st.obj.get(), &st);
  index_->built = true;
}

StateTable::Pool& StateTable::pool_of(const Mapper& m) {
  for (auto& p : pools_)
    if (p.mapper == &m) return p;
  auto& p = pools_.emplace_back();
  p.mapper = &m;
  p.width = m.columns.size();
  return p;
}

InstanceState& StateTable::add(const Mapper& m, std::shared_ptr<void> obj) {
  auto& pool = pool_of(m);
  InstanceState* s = nullptr;
  if (!pool.free.empty()) {
    s = pool.free.back();
    pool.free.pop_back();
  } else {
    if (pool.chunks.empty() || pool.chunks.back()->used == chunk_size)
      pool.chunks.push_back(std::make_unique<Chunk>(pool.width, session_));
    auto& c = *pool.chunks.back();
    s = &c.slots[c.used];
    s->snapshot = Snapshot(c.cells.get() + c.used, &c.arena());
    ++c.used;
  }
  const void* raw = obj.get();
  object_of_slot(*s) = raw;
  s->mapper = &m;
  s->obj = std::move(obj);
  if (index_->built) index_->by_object.emplace(raw, s);
  ++live_;
  return *s;
}

void StateTable::erase(InstanceState& s) {
  if (index_->built) index_->by_object.erase(s.obj.get());
  auto& pool = pool_of(*s.mapper);
  object_of_slot(s) = nullptr;
  if (SnapshotCell** saved = saved_entry(s)) *saved = nullptr;
  const Snapshot storage = s.snapshot;
  storage.clear();
  s = InstanceState{};  // releases the object; an empty obj marks the slot free
  s.snapshot = storage;  // the slot keeps its snapshot storage for the next state
  pool.free.push_back(&s);
  --live_;
}

bool StateTable::any_persistent_changed(const Mapper& m, const ColumnInfo& c) const {
  for (const auto& p : pools_) {
    if (p.mapper != &m) continue;
    for (const auto& ch : p.chunks)
      if (c.any_changed(ch->objects.get(), ch->slots.get(), ch->used,
                        ch->cells.get() + c.index * chunk_size))
        return true;
    return false;
  }
  return false;
}

namespace {

template <class Pool, class Size>
bool any_changed_in(const Pool& p, Size chunk_size) {
  for (const auto& ch : p.chunks)
    for (const auto& c : p.mapper->columns)
      if (c->any_changed(ch->objects.get(), ch->slots.get(), ch->used,
                         ch->cells.get() + c->index * chunk_size))
        return true;
  return false;
}

}  // namespace

bool StateTable::any_persistent_changed() const {
  return std::any_of(pools_.begin(), pools_.end(),
                     [](const Pool& p) { return any_changed_in(p, chunk_size); });
}

bool StateTable::any_persistent_changed(const std::vector<std::string>& tables) const {
  return std::any_of(pools_.begin(), pools_.end(), [&tables](const Pool& p) {
    return std::find(tables.begin(), tables.end(), p.mapper->table_name()) != tables.end() &&
           any_changed_in(p, chunk_size);
  });
}

SnapshotCell* StateTable::saved_cells(std::size_t n) {
  if (n > saved_left_) {
    // Blocks of 256 cells, doubling to 64 Ki (1 MiB); a wider snapshot gets one its size.
    const std::size_t size =
        std::max(n, std::size_t{256} << std::min<std::size_t>(saved_blocks_.size(), 8));
    saved_next_ =
        saved_blocks_.emplace_back(std::make_unique_for_overwrite<SnapshotCell[]>(size)).get();
    saved_left_ = size;
  }
  SnapshotCell* cells = saved_next_;
  saved_next_ += n;
  saved_left_ -= n;
  std::fill(cells, cells + n, SnapshotCell::unset());
  return cells;
}

void StateTable::release_saved() noexcept {
  for (auto& p : pools_)
    for (auto& c : p.chunks) c->saved.reset();
  saved_blocks_.clear();
  saved_next_ = nullptr;
  saved_left_ = 0;
}

void StateTable::compact_snapshots() {
  for (auto& p : pools_) {
    for (auto& c : p.chunks) {
      if (!c->arena().worth_compacting()) continue;
      SnapshotArena fresh(p.width);
      for (std::size_t j = 0; j < p.width; ++j)
        for (std::size_t k = 0; k < c->used; ++k) c->cells[j * chunk_size + k].move_bytes_to(fresh);
      c->arena() = std::move(fresh);
    }
  }
}

void StateTable::clear() noexcept {
  index_->by_object.clear();
  index_->built = false;
  pools_.clear();
  release_saved();
  live_ = 0;
}

}  // namespace strata::detail
