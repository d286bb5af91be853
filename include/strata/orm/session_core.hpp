// The unit of work behind strata::Session, type-erased: identity map, object states and
// snapshots, the flush pipeline, loading, and the transaction. Session<...> templates are a
// thin typed front over this class; its code lives in src/orm/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "strata/engine/engine.hpp"
#include "strata/orm/mapper.hpp"
#include "strata/orm/object_block.hpp"
#include "strata/orm/snapshot.hpp"
#include "strata/sql/ast.hpp"
#include "strata/sql/value.hpp"

namespace strata {

namespace dialect {
class Dialect;
}

class Row;
struct Result;
class Session;

namespace detail {

struct DatabaseCore;
struct MapperSql;
class SessionCore;
class ModelChanges;

enum class ObjectStatus : unsigned char {
  pending,     // added, not yet inserted
  persistent,  // has a row (inserted in this transaction or loaded)
  deleted,     // its DELETE was flushed; gone from the identity map at commit
};

// An object's snapshot: one cell per column of its mapper (in ColumnInfo::snapshot()'s form),
// by column index, held in a chunk of the session's state table (no allocation of its own).
// Copying a Snapshot copies the reference, not the values.
class Snapshot {
 public:
  // The cells of a chunk's snapshots are held column by column: a scan of one column reads
  // 16 bytes an object.
  static constexpr std::size_t column_stride = 256;

  Snapshot() = default;
  // Column i's value: a view, valid until column i is set again.
  ValueRef operator[](std::size_t i) const noexcept { return at(i).get(); }
  std::size_t size() const noexcept { return arena_->width(); }
  // A copy of the values.
  std::vector<Value> values() const {
    std::vector<Value> out;
    out.reserve(size());
    for (std::size_t i = 0, n = size(); i < n; ++i) out.push_back(at(i).get().to_value());
    return out;
  }

  void set(std::size_t i, ValueRef v) const {
    SnapshotCell& c = at(i);
    const std::size_t old = c.arena_bytes();
    c.assign(v, *arena_);
    arena_->release(old);
  }
  // Column c of obj, as it is now.
  void take(const ColumnInfo& c, const void* obj) const {
    Value scratch;
    set(c.index, c.snapshot(obj, scratch));
  }
  const SnapshotCell& cell(std::size_t i) const noexcept { return at(i); }
  // Where its long text and blobs are kept (shared with the other snapshots of its chunk).
  const SnapshotArena& arena() const noexcept { return *arena_; }
  // Puts back a cell copied by cell(i) before column i was set again.
  void restore(std::size_t i, const SnapshotCell& saved) const noexcept {
    arena_->release(at(i).arena_bytes());
    arena_->reclaim(saved.arena_bytes());
    at(i) = saved;
  }
  // Every column NULL.
  void clear() const noexcept {
    for (std::size_t i = 0, n = size(); i < n; ++i) {
      arena_->release(at(i).arena_bytes());
      at(i) = SnapshotCell{};
    }
  }

 private:
  friend class StateTable;
  Snapshot(SnapshotCell* cells, SnapshotArena* arena) noexcept : cells_(cells), arena_(arena) {}
  SnapshotCell& at(std::size_t i) const noexcept { return cells_[i * column_stride]; }
  SnapshotCell* cells_ = nullptr;  // column 0's cell; column i's is column_stride * i further
  SnapshotArena* arena_ = nullptr;  // also says how many cells
};

// An object's identity key (its primary key; composite keys encoded as text) in 16 bytes: an
// integer in place, any other value on the heap.
class IdentityKey {
 public:
  IdentityKey() noexcept = default;  // NULL
  IdentityKey(IdentityKey&& o) noexcept { take(o); }
  IdentityKey& operator=(IdentityKey&& o) noexcept {
    if (this != &o) {
      reset();
      take(o);
    }
    return *this;
  }
  IdentityKey(const IdentityKey&) = delete;
  IdentityKey& operator=(const IdentityKey&) = delete;
  ~IdentityKey() { reset(); }

  explicit IdentityKey(std::int64_t key) noexcept : int_(key), kind_(Kind::integer) {}
  explicit IdentityKey(Value v) { *this = std::move(v); }

  IdentityKey& operator=(Value v) {
    reset();
    if (auto* i = std::get_if<std::int64_t>(&v)) {
      int_ = *i;
      kind_ = Kind::integer;
    } else if (!is_null(v)) {
      other_ = new Value(std::move(v));
      kind_ = Kind::other;
    }
    return *this;
  }
  ValueRef ref() const noexcept {
    switch (kind_) {
      case Kind::integer: return ValueRef::integer(int_);
      case Kind::other: return ValueRef(*other_);
      case Kind::none: break;
    }
    return {};
  }

 private:
  enum class Kind : unsigned char { none, integer, other };
  void reset() noexcept {
    if (kind_ == Kind::other) delete other_;
    kind_ = Kind::none;
  }
  void take(IdentityKey& o) noexcept {  // this holds nothing
    if (o.kind_ == Kind::other) other_ = o.other_;
    else int_ = o.int_;
    kind_ = o.kind_;
    o.kind_ = Kind::none;
  }
  union {
    std::int64_t int_ = 0;
    Value* other_;
  };
  Kind kind_ = Kind::none;
};

// What the session knows of one object, in 64 bytes: a load of many rows writes one state a
// row (with 16 bytes more a state, a load of 100,000 users measured 5% slower). The key's
// spare bytes hold the status and flags that follow it, and the cells kept for rollback are
// found through the state's chunk (txn_saved()) rather than a pointer of its own.
struct InstanceState {
  const Mapper* mapper = nullptr;
  std::shared_ptr<void> obj;
  [[no_unique_address]] IdentityKey key;  // identity: the primary key (composite keys encoded)
  ObjectStatus status = ObjectStatus::pending;
  bool marked_for_delete = false;  // delete_() called, DELETE not yet flushed
  bool inserted_in_txn = false;    // its INSERT was flushed in the current transaction
  bool key_assigned_by_db = false; // the INSERT filled an autoincrement key
  bool relation_noted = false;     // listed in SessionCore::relation_changed_ (once)
  bool loaded_after_write = false; // first loaded after a write of the current transaction:
                                   // rollback() reads it again
  Snapshot snapshot;               // column values as last flushed or loaded, by index
  std::uint64_t seq = 0;           // order of add(), to insert in that order

  // The session that holds this state (kept by its chunk of the state table, not per state).
  SessionCore& session() const noexcept;
  // The snapshot's cells as of the transaction's start, for columns that an UPDATE, a bulk
  // update or refresh() replaced in it (the others unset), so that rollback() can put them
  // back; null until then. The state table keeps them (StateTable::keep_for_rollback) and
  // lets go of them all when the transaction ends. Their arena bytes stay put: the state
  // table compacts arenas only between transactions.
  const SnapshotCell* txn_saved() const noexcept;
  // Whether column i's cell was kept for rollback in this transaction.
  bool saved(std::size_t i) const noexcept {
    const SnapshotCell* t = txn_saved();
    return t && !t[i].is_unset();
  }
  // rollback(): the snapshot as it was when the transaction began; the saved cells are let go.
  void restore_saved() noexcept;
};

// The identity map: one state per (mapper, primary key). Integer keys go in runs of 8
// consecutive keys (a cache line of state pointers) in an open-addressing table, so that rows
// read in key order touch a new run only every 8 rows; other keys go in a set of state pointers
// hashed by the key each state holds. Neither copies a key or allocates per entry. A state's
// mapper and key must not change while it is in the map (erase, change, put).
class IdentityMap {
 public:
  IdentityMap();
  IdentityMap(const IdentityMap&) = delete;
  IdentityMap& operator=(const IdentityMap&) = delete;
  ~IdentityMap();

  InstanceState* find(const Mapper* m, const Value& key) const;
  // Puts s in the map, replacing the state that held its identity, if any.
  void put(InstanceState* s);
  // For a load with an integer key (other keys: find() and put()): where the state of
  // (m, key) is, or would go, found with one probe. *slot is the state, or null, and a new
  // state of that mapper and key goes in with fill(). Valid until the map next changes.
  InstanceState** slot_for(const Mapper* m, std::int64_t key);
  void fill(InstanceState** slot, InstanceState* s) noexcept;
  // Takes out the state of this identity, if any.
  void erase(const Mapper* m, const Value& key);
  // Takes out s, if it is the state of its identity.
  void erase_if_is(InstanceState* s);
  // Whether the map holds objects of m (a scan).
  bool holds(const Mapper* m) const;
  bool empty() const noexcept;
  std::size_t size() const noexcept;
  // Room for n states in all, so that putting many at once grows the table once.
  void reserve(std::size_t n);
  void clear() noexcept;

 private:
  struct Set;
  std::unique_ptr<Set> set_;
};

// Every object in a session, and its state. States live in chunks of the table, one set of
// chunks per mapper (a load of many rows allocates one chunk per few hundred objects, not one
// block per object, a closing session frees them so, and the states of one model can be
// visited without the others), found by the object's address through an open-addressing
// index built on the first lookup. A state's address is stable until it is erased. Iteration
// visits the live states in no particular order; erasing the current state while iterating is
// allowed, adding states is not.
class StateTable {
  static constexpr std::size_t chunk_size = Snapshot::column_stride;
  // A chunk is the arena of its snapshots' long text and blobs (a base, so that a state's
  // snapshot, which points at its arena, leads to the chunk: chunk_of()), its slots and cells,
  // and each slot's object address apart from the slots: the scans before lazy loads read the
  // addresses, 8 bytes a slot, rather than the 64-byte states.
  struct Chunk : SnapshotArena {
    Chunk(std::size_t width, SessionCore* owner)
        : SnapshotArena(width),
          session(owner),
          slots(std::make_unique<InstanceState[]>(chunk_size)),
          objects(std::make_unique<const void*[]>(chunk_size)),
          cells(std::make_unique<SnapshotCell[]>(chunk_size * width)) {}
    SnapshotArena& arena() noexcept { return *this; }
    SessionCore* session;  // the session of the table: its states' session()
    std::unique_ptr<InstanceState[]> slots;
    std::unique_ptr<const void*[]> objects;  // slots[k].obj.get(), null for a free slot
    std::unique_ptr<SnapshotCell[]> cells;   // the slots' snapshots, column by column
    // Each slot's cells kept for rollback in this transaction (InstanceState::txn_saved), or
    // null; the array itself is null until a slot of the chunk first keeps any.
    std::unique_ptr<SnapshotCell*[]> saved;
    std::size_t used = 0;  // slots handed out so far (live or erased)
  };
  struct Pool {  // the states of one mapper
    const Mapper* mapper = nullptr;
    std::size_t width = 0;  // values in a snapshot: the mapper's columns
    ObjectBlocks objects;   // where the objects it loads are allocated (Mapper::create)
    std::vector<std::unique_ptr<Chunk>> chunks;
    std::vector<InstanceState*> free;  // erased slots, for reuse (their snapshot storage kept)
  };
  // The chunk that holds s (a state of a table).
  static Chunk& chunk_of(const InstanceState& s) noexcept {
    return static_cast<Chunk&>(*s.snapshot.arena_);
  }
  // Where s is among its chunk's slots.
  static std::size_t slot_index(const InstanceState& s) noexcept {
    return static_cast<std::size_t>(&s - chunk_of(s).slots.get());
  }
  // s's entry in its chunk's array of object addresses.
  static const void*& object_of_slot(const InstanceState& s) noexcept {
    return chunk_of(s).objects[slot_index(s)];
  }
  friend struct InstanceState;

 public:
  // The state table of `session` (null for a table of its own, in tests).
  explicit StateTable(SessionCore* session = nullptr);
  StateTable(const StateTable&) = delete;
  StateTable& operator=(const StateTable&) = delete;
  ~StateTable();

  // The state of obj, or null. The first call builds the index by address, kept from then on.
  InstanceState* find(const void* obj) const;
  // A new state of m owning obj (not null, not yet in the table); its mapper is m, its
  // snapshot has one Null value per column, its other fields are default.
  InstanceState& add(const Mapper& m, std::shared_ptr<void> obj);
  // Where the session's new objects of m are allocated (see object_block.hpp).
  ObjectBlocks& object_blocks(const Mapper& m) { return pool_of(m).objects; }
  // Destroys s (a state of this table), which releases its object.
  void erase(InstanceState& s);
  void clear() noexcept;
  std::size_t size() const noexcept { return live_; }
  // f(m) for each mapper the table has held states of; f(s) for each live state of m.
  template <class F>
  void for_each_mapper(F f) const {
    for (const auto& p : pools_) f(*p.mapper);
  }
  template <class F>
  void for_each_state_of(const Mapper& m, F f) {
    for (auto& p : pools_) {
      if (p.mapper != &m) continue;
      for (auto& ch : p.chunks)
        for (std::size_t k = 0; k < ch->used; ++k)
          if (ch->objects[k]) f(ch->slots[k]);
      return;
    }
  }
  // Copies the snapshot bytes still referred to out of arenas that are mostly garbage (bytes of
  // replaced values), and frees the old blocks. Only between transactions: no state may hold
  // txn_saved cells.
  void compact_snapshots();

  class iterator {
   public:
    using value_type = InstanceState;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    InstanceState& operator*() const { return (*pools_)[pool_].chunks[chunk_]->slots[slot_]; }
    InstanceState* operator->() const { return &**this; }
    iterator& operator++() {
      ++slot_;
      skip();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) {
      return a.pool_ == b.pool_ && a.chunk_ == b.chunk_ && a.slot_ == b.slot_;
    }

   private:
    friend class StateTable;
    iterator(const std::vector<Pool>* pools, std::size_t pool) : pools_(pools), pool_(pool) {
      skip();
    }
    void skip() {  // to the next live state, or to the end
      while (pool_ < pools_->size()) {
        const auto& chunks = (*pools_)[pool_].chunks;
        if (chunk_ >= chunks.size()) {
          ++pool_;
          chunk_ = 0;
          slot_ = 0;
        } else if (slot_ >= chunks[chunk_]->used) {
          ++chunk_;
          slot_ = 0;
        } else if (!chunks[chunk_]->slots[slot_].obj) {
          ++slot_;
        } else {
          return;
        }
      }
    }
    const std::vector<Pool>* pools_ = nullptr;
    std::size_t pool_ = 0;
    std::size_t chunk_ = 0;
    std::size_t slot_ = 0;
  };
  iterator begin() const { return iterator(&pools_, 0); }
  iterator end() const { return iterator(&pools_, pools_.size()); }
  // Whether ColumnInfo::any_changed finds column c of a persistent object of m changed since
  // its snapshot: one call per chunk (for the scans run before lazy loads).
  bool any_persistent_changed(const Mapper& m, const ColumnInfo& c) const;
  // Whether any column of a persistent object differs from its snapshot: the dirty check of a
  // flush, run column by column over each chunk (one call per column and chunk). Of all
  // objects, or of the objects of the mappers whose table is one of `tables`.
  bool any_persistent_changed() const;
  bool any_persistent_changed(const std::vector<std::string>& tables) const;

  // Column i of s's snapshot is about to be replaced within the transaction (the caller sets
  // it next): keeps the cell it had when the transaction began in s.txn_saved, unless s's row
  // was inserted in the transaction. The saved cells of all states come from a few blocks.
  void keep_for_rollback(InstanceState& s, std::size_t i) {
    if (s.inserted_in_txn) return;
    SnapshotCell*& saved = saved_of(s);
    if (!saved) saved = saved_cells(s.snapshot.size());
    if (saved[i].is_unset()) saved[i] = s.snapshot.cell(i);
  }
  // The transaction ended: no state holds saved cells any more (each has restored or dropped
  // them); frees their blocks.
  void release_saved() noexcept;

 private:
  struct Index;
  Pool& pool_of(const Mapper& m);
  void build_index() const;
  SnapshotCell* saved_cells(std::size_t n);  // n unset cells, until release_saved()
  // s's saved cells (InstanceState::txn_saved): its entry in its chunk's array, which this
  // allocates on first use. (Indexed here rather than through saved_entry(), whose null the
  // compiler cannot rule out: g++ warns of a null dereference.)
  static SnapshotCell*& saved_of(const InstanceState& s) {
    Chunk& chunk = chunk_of(s);
    if (!chunk.saved) chunk.saved = std::make_unique<SnapshotCell*[]>(chunk_size);
    return chunk.saved[slot_index(s)];
  }
  // s's entry in its chunk's array of saved cells, or null while the chunk has no array (then
  // no state of it keeps any).
  static SnapshotCell** saved_entry(const InstanceState& s) noexcept {
    Chunk& chunk = chunk_of(s);
    return chunk.saved ? &chunk.saved[slot_index(s)] : nullptr;
  }
  std::vector<Pool> pools_;
  std::vector<std::unique_ptr<SnapshotCell[]>> saved_blocks_;
  SnapshotCell* saved_next_ = nullptr;
  std::size_t saved_left_ = 0;
  std::size_t live_ = 0;
  std::unique_ptr<Index> index_;
  SessionCore* session_ = nullptr;
};

inline SessionCore& InstanceState::session() const noexcept {
  return *StateTable::chunk_of(*this).session;
}

inline const SnapshotCell* InstanceState::txn_saved() const noexcept {
  SnapshotCell** entry = StateTable::saved_entry(*this);
  return entry ? *entry : nullptr;
}

inline void InstanceState::restore_saved() noexcept {
  SnapshotCell** entry = StateTable::saved_entry(*this);
  if (!entry || !*entry) return;
  const SnapshotCell* t = *entry;
  for (std::size_t k = 0, n = snapshot.size(); k < n; ++k)
    if (!t[k].is_unset()) snapshot.restore(k, t[k]);
  *entry = nullptr;
}

static_assert(sizeof(InstanceState) <= 64, "a state outgrew its cache line (see InstanceState)");

// A many-to-many link changed since the last flush: the association row between `left` and
// `right` (the objects its left and right columns refer to).
struct LinkChange {
  const RelationshipInfo* rel = nullptr;  // the relationship it was changed through
  std::shared_ptr<void> left;
  std::shared_ptr<void> right;
  bool was_linked = false;  // the row was in the database before the first change
  bool linked = false;      // the row must be there after the flush
};

// An object let go of by a relationship with the delete-orphan cascade: deleted at the next
// flush unless something took it back since.
struct OrphanCandidate {
  const RelationshipInfo* rel = nullptr;
  std::shared_ptr<void> obj;
};

// The delete-orphan candidates since the last flush, in order. An object given a parent again
// (every append and assignment says so, for any object) is forgotten in constant time, so that
// replacing a collection of n objects with another costs O(n), not O(n^2): its earlier entries
// are dropped when the list is taken.
class OrphanList {
 public:
  void add(const RelationshipInfo& rel, std::shared_ptr<void> obj);
  // obj is no candidate now (it was given a parent again, or left the session).
  void forget(const void* obj);
  // The candidates not forgotten since they were listed, in order; the list is left empty.
  std::vector<OrphanCandidate> take();
  void clear() noexcept;

 private:
  std::vector<OrphanCandidate> list_;
  std::unordered_set<const void*> listed_;  // objects with an entry not forgotten
  // Forgotten objects: an entry of the object before this position of list_ no longer counts.
  std::unordered_map<const void*, std::size_t> forgotten_;
};

// A query as the typed front describes it (the FROM table is the mapper's, or the tuple
// query's own).
struct QuerySpec {
  std::optional<sql::RowLock> lock;  // with_for_update(): SELECT ... FOR UPDATE
  bool populate_existing = false;    // the rows overwrite the objects the session holds
  sql::ExprPtr where;
  std::vector<sql::OrderBy> order_by;
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> offset;
  std::vector<sql::Join> joins;
  bool distinct = false;
  std::vector<sql::ExprPtr> group_by;
  sql::ExprPtr having;  // may be null
  std::vector<RelationshipLoad> load;  // loader options, in order (the last for a
                                       // relationship wins)
};

// One SET of a bulk update: the column whose member sits at `offset` takes `value`, or the
// expression `expr` when it is set.
struct SetColumn {
  std::size_t offset;
  Value value;
  sql::ExprPtr expr;
};

// A live SELECT over one mapper, yielding plain values one row at a time (no identity map).
class Cursor {
 public:
  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;
  ~Cursor();
  // Loads the next row into obj (a value-initialized object of the mapper's type).
  bool next(void* obj);

 private:
  friend class SessionCore;
  Cursor() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class SessionCore {
 public:
  explicit SessionCore(DatabaseCore& db);
  SessionCore(const SessionCore&) = delete;
  SessionCore& operator=(const SessionCore&) = delete;
  ~SessionCore();

  bool autoflush = true;
  // The Session in front of this core: what session event handlers receive (null while the
  // Session is being destroyed, when they are not called).
  Session* facade = nullptr;

  // Unit of work.
  // fresh: obj was just made (Session::add of a value), so it cannot be in the session yet.
  void add(const Mapper& m, std::shared_ptr<void> obj, bool fresh = false);
  void delete_(const Mapper& m, const void* obj);
  void flush();
  void commit();
  void rollback();
  void close();
  void expunge(const void* obj);
  void expunge_all();
  // Lets go of what handlers of the flush expunged or deleted (left_in_flush_).
  void expunge_deferred() noexcept;
  void refresh(const Mapper& m, const void* obj);
  // merge(): the session's object with obj's primary key (loaded if the session does not
  // hold it) with obj's column values set on it; null when obj's key is unassigned or no row
  // has it (Session::merge then adds a copy, through add_merged_copy).
  std::shared_ptr<void> merge(const Mapper& m, const void* obj);
  void add_merged_copy(const Mapper& m, std::shared_ptr<void> copy);
  bool contains(const void* obj) const;
  // Whether obj's mapped columns differ from what was last flushed or loaded.
  bool is_modified(const void* obj) const;

  // Loading.
  std::shared_ptr<void> get(const Mapper& m, const Value& key);
  // get() through a query that overwrites the object the session holds (populate_existing),
  // with the row locked when lock is set.
  std::shared_ptr<void> get_fresh(const Mapper& m, const Value& key,
                                  std::optional<sql::RowLock> lock);
  std::vector<std::shared_ptr<void>> all(const Mapper& m, const QuerySpec& q);
  // The same, each object handed to sink(out, object) as it is read: Query<T>::all fills its
  // typed vector so, without a second vector of all the objects.
  using Sink = void (*)(void* out, std::shared_ptr<void>&& obj);
  void all(const Mapper& m, const QuerySpec& q, Sink sink, void* out);
  std::int64_t count(const Mapper& m, const QuerySpec& q);
  bool exists(const Mapper& m, const QuerySpec& q);
  Cursor stream(const Mapper& m, const QuerySpec& q);
  // A SELECT of plain values (TupleQuery) from model m's table: each row handed to
  // sink(out, row) as it is read.
  using RowSink = void (*)(void* out, const engine::Statement& row);
  void select_rows(const sql::Select& s, const Mapper* m, RowSink sink, void* out);
  std::int64_t bulk_update(const Mapper& m, const QuerySpec& q,
                           const std::vector<SetColumn>& assignments);
  std::int64_t bulk_delete(const Mapper& m, const QuerySpec& q);
  // Raw SQL on the default database, or on the bind named `bind`.
  Result execute(std::string_view sql, const std::vector<Value>& params, std::string_view bind = {});

  // Lazy loading, called through relationship fields.
  std::shared_ptr<void> load_target(InstanceState& owner, const RelationshipInfo& rel);
  // The object a many-to-one of owner refers to by its foreign key's value, when the identity
  // map holds it (no SQL); null otherwise.
  std::shared_ptr<void> held_target(InstanceState& owner, const RelationshipInfo& rel);
  std::vector<std::shared_ptr<void>> load_items(InstanceState& owner,
                                                const RelationshipInfo& rel);
  // HasOne: the object referring to owner, or null; MultipleResultsFound when several do.
  std::shared_ptr<void> load_one(InstanceState& owner, const RelationshipInfo& rel);
  // A many-to-many collection of owner gained (linked) or lost item: the association row
  // is inserted or deleted at flush.
  void note_link(const RelationshipInfo& rel, const std::shared_ptr<void>& owner,
                 const std::shared_ptr<void>& item, bool linked);
  // obj was let go of by a delete-orphan relationship; or it was given a parent again.
  void note_orphan(const RelationshipInfo& rel, const std::shared_ptr<void>& obj);
  void note_parented(const void* obj);
  // In memory: back (a HasMany or HasOne of parent) now holds child; a HasOne's previous
  // object is released.
  void back_add(const RelationshipInfo& back, const std::shared_ptr<void>& parent,
                const std::shared_ptr<void>& child);
  // item left rel (a HasMany or HasOne of its owner): its back reference becomes null and its
  // foreign key NULL at flush, or it is deleted at flush with the delete-orphan cascade.
  void release(const RelationshipInfo& rel, const std::shared_ptr<void>& item);
  // Whether release() cannot let go of an item of rel (no back reference to null, no
  // delete-orphan, and a NOT NULL foreign key); check_release() throws InvalidRequestError then.
  static bool release_refused(const RelationshipInfo& rel);
  static void check_release(const RelationshipInfo& rel);
  // A relationship field changed: remember its owner for the next flush.
  void note_relation_change(InstanceState& owner);
  // item was appended to owner's collection rel (one-to-many, one-to-one or many-to-many): for
  // an owner already in the database, what the next flush walks instead of all it holds.
  void note_appended(InstanceState& owner, const RelationshipInfo& rel,
                     const std::shared_ptr<void>& item);
  // The same for the object at obj when it is in this session (the other side of a change,
  // e.g. the item whose back reference remove() cleared).
  void note_relation_change(const void* obj);

  DatabaseCore& database() noexcept { return db_; }

  // The connection (in the session's transaction) for statements about m's table: the
  // default database's, or that of the bind m lives in (Model<T>::bind).
  engine::Connection& connection(const Mapper& m);
  // The dialect of the database m lives in.
  const dialect::Dialect& dialect_for(const Mapper& m) const;

 private:
  friend class Flush;
  friend class RelationField;  // check_joinable(): the state of an object without relationships
  friend class Loader;
  friend class EagerLoader;
  friend class Cursor;

  // The default database's connection: borrows one, BEGINs on first use (with locking: the
  // BEGIN of a transaction that locks rows, engine::Connection::begin_locking).
  engine::Connection& connection(const engine::Transaction::LockingRows* locking = nullptr);
  // The same for one database of the app.
  engine::Connection& connection(DatabaseCore& core,
                                 const engine::Transaction::LockingRows* locking = nullptr);
  // The connection for a query of m's database that locks the rows it reads (lock, when
  // set: Select::lock): its transaction, when it has not begun yet, begins as one that locks
  // rows (on SQLite, BEGIN IMMEDIATE).
  engine::Connection& connection_for(DatabaseCore& core, const std::optional<sql::RowLock>& lock);
  // The database's compiled SQL of m (DatabaseCore::sql_for, which takes the database's lock),
  // remembered for the last few mappers this session used.
  const MapperSql& sql_for(const Mapper& m);
  void check_usable() const;
  void do_autoflush();
  // do_autoflush() before a SELECT of the database `core` that reads `tables` (or the tables s
  // reads), narrowed to the changes that can change its rows (see the definition).
  // True when it flushed, writing something.
  bool autoflush_before(DatabaseCore& core, std::vector<std::string> tables);
  bool autoflush_before(DatabaseCore& core, const sql::Select& s);
  InstanceState* state_of(const void* obj) const;
  InstanceState& attach(const Mapper& m, std::shared_ptr<void> obj, ObjectStatus status);
  // A deleted object leaves the loaded relationships of the objects that referred to it.
  void leave_parents(const std::vector<InstanceState*>& gone);
  // The same, for the objects of `gone` that no back reference leads from: a many-to-many
  // whose own side is not loaded, and a relationship declared on the other side only. Found
  // by one pass over the session's objects.
  void leave_collections(const std::vector<InstanceState*>& gone);
  // The state of the object the many-to-one rel refers to by key, when the session holds it
  // and key is the referred table's primary key; else null.
  InstanceState* referred_in_session(const RelationshipInfo& rel, const Value& key) const;
  // The object obj's many-to-one rel refers to, in memory: its loaded reference, else the
  // session's object with key (obj's foreign key as it was).
  std::shared_ptr<void> parent_in_session(const RelationshipInfo& rel, void* obj,
                                          const Value& key) const;
  // InvalidRequestError when obj, not in this session, or an object the save-update cascade
  // would add with it, is in another session (seen: the objects visited).
  void refuse_if_in_another_session(const Mapper& m, const void* obj,
                                    std::unordered_set<const void*>& seen) const;
  void cascade_add(InstanceState& s);
  void detach(InstanceState& s);
  // rollback(): the objects first loaded after a write of the transaction rolled back hold
  // what it wrote; they take their rows again, and leave the session when the row is gone
  // (or cannot be read).
  void reload_after_rollback(const std::vector<InstanceState*>& stale);
  void end_transaction();  // after COMMIT or ROLLBACK: give the connections back
  void roll_back_transactions();  // ROLLBACK on every database the session has used
  // rollback() and close(): ROLLBACK, and forget the pending links, orphans, relationship
  // changes, failed flush and recorded changes. Returns whether a transaction was open.
  bool roll_back_and_forget_changes();
  void fire_after_rollback(bool had_transaction);  // when one was open
  bool in_transaction() const;  // whether any database's transaction is open
  // A flush or commit failed (why: its message): ROLLBACK, and refuse work until rollback().
  void abort_transaction(std::string why);
  // Flushes again while event handlers of the last flush left work (commit()).
  void flush_until_clean();
  void forget_changes_of(const void* obj);  // pending link and orphan notes about obj
  void cursor_closed();    // a stream ended: give the connection back if nothing holds it

  DatabaseCore& db_;
  std::array<std::pair<const Mapper*, const MapperSql*>, 4> sql_seen_{};  // see sql_for
  std::size_t sql_seen_next_ = 0;
  engine::PooledConnection conn_;
  std::unique_ptr<engine::Transaction> txn_;
  // The session's connections to other databases (binds), each in a transaction of its own
  // from first use to commit or rollback, as conn_ and txn_ are for the default one.
  struct BindConnection {
    DatabaseCore* core = nullptr;
    engine::PooledConnection conn;
    std::unique_ptr<engine::Transaction> txn;
  };
  std::vector<BindConnection> bind_connections_;
  // Every object in the session, by address.
  StateTable states_;
  // The identity map: one object per primary key.
  IdentityMap identity_;
  // Owners with changed relationship fields, each listed once while noted
  // (InstanceState::relation_noted): a parent given n children must not be walked n times by
  // the flush. A state detached since it was listed stays listed (detach() does not search the
  // list): its slot of the state table is then free, its object null, which the flush skips
  // (and does not touch), or a new state's, which the flush walks once more than needed,
  // changing nothing (its unchanged relationships are not walked, a new object's are walked
  // anyway), twice if that state is noted too. The slots live until the table is cleared,
  // after this list (expunge_all()).
  std::vector<InstanceState*> relation_changed_;
  // What was appended to the collections of persistent objects since the last flush, by
  // owner (each owner is in relation_changed_ too). The flush's save-update cascade and its
  // foreign-key sync go through these rather than through all that such a collection holds,
  // so that appending to a long loaded collection and flushing costs what was appended, not
  // the collection's length. A new owner's collections are walked whole: all their objects
  // need its key; so are those of an owner whose key changed.
  struct Appended {
    const RelationshipInfo* rel;
    std::shared_ptr<void> item;
  };
  std::unordered_map<const InstanceState*, std::vector<Appended>> appended_;
  // What the flush walks of owner's collection rel: all it holds for a new owner (or
  // `whole`), else the objects appended to it since the last flush that it still holds.
  std::vector<std::shared_ptr<void>> items_to_walk(const InstanceState& owner,
                                                   const RelationshipInfo& rel,
                                                   bool whole = false) const;
  void forget_relation_changes() noexcept;
  // Many-to-many links changed since the last flush, in order, and where each one is by
  // (association table, left object, right object).
  std::vector<LinkChange> links_;
  std::map<std::tuple<std::string, const void*, const void*>, std::size_t> link_index_;
  OrphanList orphans_;  // delete-orphan candidates since the last flush
  std::uint64_t next_seq_ = 0;
  std::string failed_flush_;  // set after a failed flush until rollback(): its message
  int open_cursors_ = 0;      // streams reading on conn_: it stays ours until they end
  bool flushing_ = false;
  bool flush_gathered_ = false;  // the flush holds the states it writes (after before_flush)
  // Objects a handler of the flush expunged, or deleted while pending: they leave when the
  // flush ends (the flush may still have their rows to write and their events to fire); one
  // deleted that the flush inserted is marked for deletion then.
  struct LeftInFlush {
    std::shared_ptr<void> obj;
    bool deleted;
  };
  std::vector<LeftInFlush> left_in_flush_;
  bool cascading_add_ = false;  // add() is adding what an object's relationships hold
  // With DatabaseOptions::track_modifications: what this transaction wrote, for the signals.
  std::unique_ptr<ModelChanges> model_changes_;
  // Objects were added or marked for deletion, or relationship fields changed, since the
  // last flush: work that inserts or deletes rows. get() autoflushes only for this (see get).
  bool rows_to_add_or_remove_ = false;
  // Whether some state may hold a key the database assigned in this transaction
  // (InstanceState::key_assigned_by_db): close() looks for them only then.
  bool keys_assigned_in_txn_ = false;
  // Whether the current transaction has written (a flush, a bulk update() or delete_(),
  // execute()): the objects loaded after that are InstanceState::loaded_after_write.
  bool wrote_in_txn_ = false;
};

}  // namespace detail
}  // namespace strata
