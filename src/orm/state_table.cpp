// The session's object table and identity map (session_core.hpp): states in chunks, found
// through open-addressing hash tables (Abseil's), so that loading n rows allocates no
// per-object index nodes and closing the session frees a few hundred states at a time.
#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>

#include <string_view>
#include <tuple>

#include "strata/orm/session_core.hpp"

namespace strata::detail {

// ---- IdentityMap ---------------------------------------------------------------------------

namespace {

struct KeyRef {  // a lookup without a state
  const Mapper* mapper;
  const Value* key;
};

std::size_t identity_hash(const Mapper* m, const Value& key) noexcept {
  if (auto* i = std::get_if<std::int64_t>(&key))
    return absl::Hash<std::tuple<const void*, std::int64_t>>()({m, *i});
  if (auto* s = std::get_if<std::string>(&key))
    return absl::Hash<std::tuple<const void*, std::string_view>>()({m, *s});
  if (auto* d = std::get_if<double>(&key))
    return absl::Hash<std::tuple<const void*, double>>()({m, *d});
  return absl::Hash<const void*>()(m);
}

struct IdentityHash {
  using is_transparent = void;
  std::size_t operator()(const InstanceState* s) const noexcept {
    return identity_hash(s->mapper, s->key);
  }
  std::size_t operator()(const KeyRef& r) const noexcept { return identity_hash(r.mapper, *r.key); }
};

struct IdentityEq {
  using is_transparent = void;
  bool operator()(const InstanceState* a, const InstanceState* b) const noexcept {
    return a->mapper == b->mapper && a->key == b->key;
  }
  bool operator()(const KeyRef& a, const InstanceState* b) const noexcept {
    return a.mapper == b->mapper && *a.key == b->key;
  }
  bool operator()(const InstanceState* a, const KeyRef& b) const noexcept {
    return a->mapper == b.mapper && a->key == *b.key;
  }
};

}  // namespace

struct IdentityMap::Set {
  absl::flat_hash_set<InstanceState*, IdentityHash, IdentityEq> set;
};

IdentityMap::IdentityMap() : set_(std::make_unique<Set>()) {}
IdentityMap::~IdentityMap() = default;

InstanceState* IdentityMap::find(const Mapper* m, const Value& key) const {
  auto it = set_->set.find(KeyRef{m, &key});
  return it == set_->set.end() ? nullptr : *it;
}

void IdentityMap::put(InstanceState* s) {
  auto [it, inserted] = set_->set.insert(s);
  if (!inserted && *it != s) {
    set_->set.erase(it);
    set_->set.insert(s);
  }
}

void IdentityMap::erase(const Mapper* m, const Value& key) {
  auto it = set_->set.find(KeyRef{m, &key});
  if (it != set_->set.end()) set_->set.erase(it);
}

void IdentityMap::erase_if_is(InstanceState* s) {
  auto it = set_->set.find(s);
  if (it != set_->set.end() && *it == s) set_->set.erase(it);
}

bool IdentityMap::holds(const Mapper* m) const {
  for (const auto* s : set_->set)
    if (s->mapper == m) return true;
  return false;
}

bool IdentityMap::empty() const noexcept { return set_->set.empty(); }

void IdentityMap::clear() noexcept { set_->set.clear(); }

// ---- StateTable ----------------------------------------------------------------------------

struct StateTable::Index {
  absl::flat_hash_map<const void*, InstanceState*> by_object;
};

StateTable::StateTable() : index_(std::make_unique<Index>()) {}
StateTable::~StateTable() = default;

InstanceState* StateTable::find(const void* obj) const {
  auto it = index_->by_object.find(obj);
  return it == index_->by_object.end() ? nullptr : it->second;
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
      pool.chunks.push_back(std::make_unique<Chunk>(pool.width));
    auto& c = *pool.chunks.back();
    s = &c.slots[c.used];
    s->snapshot = Snapshot(c.values.get() + c.used * pool.width, pool.width);
    ++c.used;
  }
  const void* raw = obj.get();
  s->mapper = &m;
  s->obj = std::move(obj);
  index_->by_object.emplace(raw, s);
  ++live_;
  return *s;
}

void StateTable::erase(InstanceState& s) {
  index_->by_object.erase(s.obj.get());
  auto& pool = pool_of(*s.mapper);
  const Snapshot storage = s.snapshot;
  for (auto& v : storage) v = Value{};  // releases the snapshot's strings
  s = InstanceState{};  // releases the object; an empty obj marks the slot free
  s.snapshot = storage;  // the slot keeps its snapshot storage for the next state
  pool.free.push_back(&s);
  --live_;
}

void StateTable::clear() noexcept {
  index_->by_object.clear();
  pools_.clear();
  live_ = 0;
}

}  // namespace strata::detail
