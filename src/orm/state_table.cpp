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

InstanceState& StateTable::add(std::shared_ptr<void> obj) {
  InstanceState* s = nullptr;
  if (!free_.empty()) {
    s = free_.back();
    free_.pop_back();
  } else {
    if (chunks_.empty() || chunks_.back()->used == chunk_size)
      chunks_.push_back(std::make_unique<Chunk>());
    auto& c = *chunks_.back();
    s = &c.slots[c.used++];
  }
  const void* raw = obj.get();
  s->obj = std::move(obj);
  index_->by_object.emplace(raw, s);
  ++live_;
  return *s;
}

void StateTable::erase(InstanceState& s) {
  index_->by_object.erase(s.obj.get());
  s = InstanceState{};  // releases the object, the snapshots; an empty obj marks the slot free
  free_.push_back(&s);
  --live_;
}

void StateTable::clear() noexcept {
  index_->by_object.clear();
  free_.clear();
  chunks_.clear();
  live_ = 0;
}

}  // namespace strata::detail
