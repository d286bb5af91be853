// The session's bookkeeping: attaching objects, cascades on add, deletion marks, the
// transaction, commit, and rollback (which puts every object back as the database has it),
// with the session events and signals around them. The flush pipeline is in flush.cpp;
// loading and queries in loading.cpp.
#include "strata/orm/session_core.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "database_core.hpp"
#include "eager.hpp"
#include "events_internal.hpp"
#include "session_internal.hpp"
#include "strata/orm/mapping.hpp"
#include "strata/orm/database.hpp"
#include "strata/sql/compiler.hpp"

namespace strata {
namespace detail {

SessionCore::SessionCore(DatabaseCore& db) : db_(db), states_(this) {
  if (db_.events.track_modifications()) model_changes_ = std::make_unique<ModelChanges>();
}

SessionCore::~SessionCore() {
  try {
    close();
  } catch (...) {
    // Destructors never throw; the connection's own guard rolls back.
  }
}

namespace {
std::unique_ptr<engine::Transaction> begin(engine::Connection& c,
                                           const engine::Transaction::LockingRows* locking) {
  return locking ? std::make_unique<engine::Transaction>(c, *locking)
                 : std::make_unique<engine::Transaction>(c);
}
}  // namespace

engine::Connection& SessionCore::connection(const engine::Transaction::LockingRows* locking) {
  if (!conn_) conn_ = db_.engine.connect();
  if (!txn_) txn_ = begin(*conn_, locking);
  return *conn_;
}

engine::Connection& SessionCore::connection_for(DatabaseCore& core,
                                                const std::optional<sql::RowLock>& lock) {
  if (!lock) return connection(core);
  const engine::Transaction::LockingRows locking{.nowait = lock->nowait};
  return connection(core, &locking);
}

const MapperSql& SessionCore::sql_for(const Mapper& m) {
  for (const auto& [mapper, sql] : sql_seen_)
    if (mapper == &m) return *sql;
  const MapperSql& sql = db_.sql_for(m);  // lives as long as the database
  sql_seen_[sql_seen_next_] = {&m, &sql};
  sql_seen_next_ = (sql_seen_next_ + 1) % sql_seen_.size();
  return sql;
}

engine::Connection& SessionCore::connection(const Mapper& m) {
  return m.bind.empty() ? connection() : connection(db_.core_for(m));
}

engine::Connection& SessionCore::connection(DatabaseCore& core,
                                            const engine::Transaction::LockingRows* locking) {
  if (&core == &db_) return connection(locking);
  auto it = std::find_if(bind_connections_.begin(), bind_connections_.end(),
                         [&](const BindConnection& b) { return b.core == &core; });
  if (it == bind_connections_.end()) {
    bind_connections_.push_back({&core, {}, {}});
    it = std::prev(bind_connections_.end());
  }
  if (!it->conn) it->conn = core.engine.connect();
  if (!it->txn) it->txn = begin(*it->conn, locking);
  return *it->conn;
}

const dialect::Dialect& SessionCore::dialect_for(const Mapper& m) const {
  return m.bind.empty() ? *db_.dialect : *db_.core_for(m).dialect;
}

void SessionCore::end_transaction() {
  txn_.reset();
  for (auto& b : bind_connections_) b.txn.reset();
  if (open_cursors_ == 0) {
    conn_.release();
    bind_connections_.clear();
  }
}

bool SessionCore::in_transaction() const {
  return txn_ || std::any_of(bind_connections_.begin(), bind_connections_.end(),
                             [](const BindConnection& b) { return b.txn != nullptr; });
}

void SessionCore::roll_back_transactions() {
  auto roll_back = [](std::unique_ptr<engine::Transaction>& txn) {
    if (!txn) return;
    try {
      txn->rollback();
    } catch (const Error&) {
      // A broken connection has lost the transaction anyway; the pool discards it.
    }
  };
  roll_back(txn_);
  for (auto& b : bind_connections_) roll_back(b.txn);
  end_transaction();
}

void SessionCore::cursor_closed() {
  if (--open_cursors_ == 0 && !txn_ &&
      std::none_of(bind_connections_.begin(), bind_connections_.end(),
                   [](const BindConnection& b) { return b.txn != nullptr; })) {
    conn_.release();
    bind_connections_.clear();
  }
}

void SessionCore::abort_transaction(std::string why) {
  // The database goes back to where the transaction began; objects keep their in-memory
  // state until the user calls rollback(), which restores them.
  const bool had_transaction = in_transaction();
  roll_back_transactions();
  failed_flush_ = std::move(why);
  if (model_changes_) model_changes_->clear();
  if (!had_transaction || !facade) return;
  if (auto events = db_.events.snapshot()) {
    try {
      fire((*events)[SessionEvent::after_rollback], *facade);
    } catch (...) {
      // The error that aborted the transaction is the one the caller sees.
    }
  }
}

void SessionCore::check_usable() const {
  if (!failed_flush_.empty())
    throw InvalidRequestError(
        "this session's transaction was rolled back after a failed flush or commit (" +
        failed_flush_ +
        "); call rollback() before using the session again");
}

InstanceState* SessionCore::state_of(const void* obj) const { return states_.find(obj); }

bool SessionCore::contains(const void* obj) const {
  auto* s = state_of(obj);
  return s && s->status != ObjectStatus::deleted;
}

InstanceState& SessionCore::attach(const Mapper& m, std::shared_ptr<void> obj,
                                   ObjectStatus status) {
  void* raw = obj.get();
  auto& state = states_.add(m, std::move(obj));
  state.status = status;
  state.seq = next_seq_++;
  for (const auto& rel : m.relationships) {
    auto& f = rel->field(raw);
    SessionAccess::owner(f) = &state;
    SessionAccess::rel(f) = rel.get();
    SessionAccess::raise(f) = rel->lazy == Loading::raise;
    if (status == ObjectStatus::persistent) {
      SessionAccess::loaded(f) = false;
      SessionAccess::changed(f) = false;
    }
  }
  return state;
}

void SessionCore::add(const Mapper& m, std::shared_ptr<void> obj, bool fresh) {
  if (!obj) throw ArgumentError("add(): null object");
  m.configure();
  if (auto* s = fresh ? nullptr : state_of(obj.get())) {
    if (s->mapper != &m)
      throw ArgumentError("add(): the object is already in the session as another model");
    if (s->status == ObjectStatus::deleted)
      throw InvalidRequestError("add(): " + describe(m, obj.get()) +
                                " was deleted and its DELETE flushed in this transaction; "
                                "rollback() brings it back, or add a new object for a new row");
    s->marked_for_delete = false;  // add() after delete_() keeps the object
    if (!left_in_flush_.empty())
      std::erase_if(left_in_flush_, [&](const LeftInFlush& l) { return l.obj == s->obj; });
    return;
  }
  // Before anything joins (once, for the add() the user called, not for those its cascade
  // makes): the object, or one the save-update cascade would bring along, may be another
  // session's.
  if (!cascading_add_) {
    std::unordered_set<const void*> seen;
    refuse_if_in_another_session(m, obj.get(), seen);
  }
  auto& state = attach(m, std::move(obj), ObjectStatus::pending);
  rows_to_add_or_remove_ = true;
  const SetForScope cascading(cascading_add_);
  cascade_add(state);
}

void SessionCore::refuse_if_in_another_session(const Mapper& m, const void* obj,
                                               std::unordered_set<const void*>& seen) const {
  // The session that holds an object is written in its relationship fields (a model without
  // relationships has nowhere to say it). Taking it over would leave the other session's
  // state without its wiring and flush the object twice, as an INSERT here. The objects
  // cascade_add() would add along with it are checked too: related objects not in this
  // session, walked on a stack of its own (a chain may be long). An object that holds none,
  // the usual new one, costs no allocation here.
  std::vector<std::pair<const Mapper*, const void*>> todo;
  const Mapper* mapper = &m;
  const void* at = obj;
  for (;;) {
    if (!mapper->relationships.empty()) {
      void* raw = const_cast<void*>(at);
      const InstanceState* owner = SessionAccess::owner(mapper->relationships.front()->field(raw));
      if (owner != nullptr && &owner->session() != this)
        throw InvalidRequestError(describe(*mapper, at) +
                                  " is already in another session; expunge() it from that "
                                  "session (or close it) before adding it to this one");
      for (const auto& rel : mapper->relationships) {
        if (!rel->cascade.save_update) continue;
        for (const auto& other : rel->current(raw)) {
          if (!other || state_of(other.get())) continue;  // (null: cascade_add() says so)
          if (seen.empty()) seen.insert(obj);
          if (seen.insert(other.get()).second) todo.emplace_back(&rel->target(), other.get());
        }
      }
    }
    if (todo.empty()) return;
    std::tie(mapper, at) = todo.back();
    todo.pop_back();
  }
}

// save-update cascade: objects reachable through relationship fields join the session, and
// both sides of each relationship are put in step in memory. A new object's many-to-many
// collection gives the links to insert. Of an object already in the database, only what its
// collections gained since the last flush is walked (items_to_walk): the rest is in the
// session and in step already.
void SessionCore::cascade_add(InstanceState& first) {
  // Depth first, in the order in which add() calling itself for each new object would go, but
  // on a stack of its own: a chain of new objects tens of thousands long must not overflow
  // the thread's stack. A frame walks one object's relationships; a new object found there is
  // attached, walked in a frame of its own, and then put in step with its holder.
  struct Frame {
    InstanceState* s = nullptr;
    std::size_t rel = 0;                       // the relationship walked
    std::vector<std::shared_ptr<void>> items{};  // what it holds (read when `reading` is false)
    std::size_t item = 0;                      // the item at hand
    bool reading = false;                      // items hold the relationship's objects
    bool walked = false;                       // the item at hand was attached and walked
  };
  // Called by add(), this walk's objects were checked with the first; called for an object
  // already in the session (flush, refresh), each new object reached from it is checked with
  // what it brings along, as add() does.
  if (first.mapper->relationships.empty()) return;
  const bool check_ownership = !cascading_add_;
  const SetForScope cascading(cascading_add_);
  // add() and the flush call this for every new object: the thread keeps its stack's memory
  // from one walk to the next (a walk within a walk, should one happen, has its own).
  thread_local std::vector<Frame> kept;
  thread_local bool kept_in_use = false;
  std::vector<Frame> own;
  const bool keeping = !kept_in_use;
  std::vector<Frame>& stack = keeping ? kept : own;
  struct Done {
    std::vector<Frame>& stack;
    bool keeping;
    ~Done() {
      stack.clear();  // (after an exception too)
      if (keeping) kept_in_use = false;
    }
  } done{stack, keeping};
  if (keeping) kept_in_use = true;
  stack.push_back(Frame{&first});
  while (!stack.empty()) {
    const std::size_t depth = stack.size() - 1;
    Frame& f = stack.back();
    InstanceState& s = *f.s;
    void* obj = s.obj.get();
    const auto& rels = s.mapper->relationships;
    if (!f.reading) {
      if (f.rel == rels.size()) {
        stack.pop_back();
        continue;
      }
      const auto& rel = *rels[f.rel];
      if (!SessionAccess::changed(rel.field(obj)) && s.status != ObjectStatus::pending) {
        ++f.rel;
        continue;
      }
      f.items = items_to_walk(s, rel);
      f.item = 0;
      f.reading = true;
    }
    if (f.item == f.items.size()) {
      f.reading = false;
      f.items.clear();
      ++f.rel;
      continue;
    }
    const auto& rel = *rels[f.rel];
    // (A reference into the frame: not used once a frame is pushed, which may move it.)
    const std::shared_ptr<void>& other = f.items[f.item];
    if (!f.walked) {
      f.walked = true;
      if (!state_of(other.get()) && rel.cascade.save_update) {
        // What add(target, other) does for an object not in the session.
        if (!other) throw ArgumentError("add(): null object in " + s.mapper->class_name + "." +
                                        rel.name);
        const Mapper& target = rel.target();
        target.configure();
        if (check_ownership && depth == 0) {
          std::unordered_set<const void*> seen;
          refuse_if_in_another_session(target, other.get(), seen);
        }
        auto& os = attach(target, other, ObjectStatus::pending);
        rows_to_add_or_remove_ = true;
        stack.push_back(Frame{&os});  // f is not to be used past this point
        continue;
      }
    }
    f.walked = false;
    ++f.item;
    if (rel.kind == RelationKind::many_to_many) {
      if (s.status == ObjectStatus::pending) note_link(rel, s.obj, other, true);
      if (rel.back) rel.back->add_item(other.get(), s.obj);
      continue;
    }
    if (!rel.back) continue;
    if (rel.kind == RelationKind::many_to_one) {
      back_add(*rel.back, other, s.obj);
    } else {
      rel.back->set_target(other.get(), s.obj, true);
      if (auto* os = state_of(other.get())) note_relation_change(*os);
    }
  }
}

void SessionCore::back_add(const RelationshipInfo& back, const std::shared_ptr<void>& parent,
                           const std::shared_ptr<void>& child) {
  if (back.kind == RelationKind::one_to_one) {
    // The parent's one object is replaced: the one it held loses its parent. Not loaded yet,
    // it is loaded first (a SELECT by the parent's key, without autoflush, since this
    // assignment is half made), so that it is released in memory and its foreign key set NULL
    // at the flush before this one takes the (unique) key. The row found may be an object
    // moved to another parent in memory since: that one is not released.
    void* p = parent.get();
    if (!SessionAccess::loaded(back.field(p))) {
      if (const auto* ps = state_of(p); ps && ps->status == ObjectStatus::persistent) {
        // lazy='raise' (or raiseload()) is for the program's own reads: this load is the
        // session's, as the flush's loads for a delete are.
        const SetForScope no_autoflush(autoflush, false);
        const SetForScope lifted(SessionAccess::raise(back.field(p)), false);
        back.load(p);
      }
    }
    for (auto& old : back.current(parent.get())) {
      if (old == child) continue;
      if (back.back) {
        const auto holder = back.back->current(old.get());
        if (!holder.empty() && holder.front() != parent) continue;  // moved away in memory
      }
      release(back, old);
    }
  }
  back.add_item(parent.get(), child);
}

void SessionCore::release(const RelationshipInfo& rel, const std::shared_ptr<void>& item) {
  if (rel.cascade.delete_orphan) note_orphan(rel, item);
  if (rel.back) {
    rel.back->set_target(item.get(), nullptr, true);
    // The item is no longer among the owner's, where the flush looks for changed foreign
    // keys: note it itself, so its foreign key becomes NULL.
    note_relation_change(item.get());
  } else if (rel.fk->column.nullable) {
    rel.fk->set(item.get(), null);
  } else {
    check_release(rel);
  }
}

bool SessionCore::release_refused(const RelationshipInfo& rel) {
  return !rel.back && !rel.fk->column.nullable && !rel.cascade.delete_orphan;
}

void SessionCore::check_release(const RelationshipInfo& rel) {
  if (!release_refused(rel)) return;
  throw InvalidRequestError("removing a " + rel.target().class_name + " from " +
                            rel.owner->class_name + "." + rel.name + " would set '" +
                            rel.fk->qualified_name +
                            "' to NULL, but it is NOT NULL; delete the object instead, or "
                            "declare the relationship with cascade(\"all, delete-orphan\")");
}

void SessionCore::note_link(const RelationshipInfo& rel, const std::shared_ptr<void>& owner,
                            const std::shared_ptr<void>& item, bool linked) {
  const auto& left = rel.local_is_left ? owner : item;
  const auto& right = rel.local_is_left ? item : owner;
  auto key = std::make_tuple(rel.secondary_table.name, static_cast<const void*>(left.get()),
                             static_cast<const void*>(right.get()));
  auto [it, fresh] = link_index_.emplace(std::move(key), links_.size());
  if (fresh) {
    // A first change: an append found the item missing from the loaded collection (no row),
    // a remove found it there (a row).
    links_.push_back({&rel, left, right, !linked, linked});
  } else {
    links_[it->second].linked = linked;
  }
  rows_to_add_or_remove_ = true;
}

void OrphanList::add(const RelationshipInfo& rel, std::shared_ptr<void> obj) {
  listed_.insert(obj.get());
  list_.push_back({&rel, std::move(obj)});
}

void OrphanList::forget(const void* obj) {
  // (An entry holds its object: no other object takes its address while the list holds it.)
  if (!listed_.empty() && listed_.erase(obj)) forgotten_[obj] = list_.size();
}

std::vector<OrphanCandidate> OrphanList::take() {
  std::vector<OrphanCandidate> out;
  out.reserve(list_.size());
  for (std::size_t i = 0; i < list_.size(); ++i) {
    auto it = forgotten_.find(list_[i].obj.get());
    if (it == forgotten_.end() || i >= it->second) out.push_back(std::move(list_[i]));
  }
  clear();
  return out;
}

void OrphanList::clear() noexcept {
  list_.clear();
  listed_.clear();
  forgotten_.clear();
}

void SessionCore::note_orphan(const RelationshipInfo& rel, const std::shared_ptr<void>& obj) {
  orphans_.add(rel, obj);
  rows_to_add_or_remove_ = true;
}

void SessionCore::note_parented(const void* obj) { orphans_.forget(obj); }

void SessionCore::note_relation_change(InstanceState& owner) {
  if (!owner.relation_noted) {
    owner.relation_noted = true;
    relation_changed_.push_back(&owner);
  }
  rows_to_add_or_remove_ = true;
}

void SessionCore::note_appended(InstanceState& owner, const RelationshipInfo& rel,
                                const std::shared_ptr<void>& item) {
  note_relation_change(owner);
  if (owner.status != ObjectStatus::persistent) return;
  auto& list = appended_[&owner];
  // The same object taken out and put back again and again is listed once.
  if (!list.empty() && list.back().rel == &rel && list.back().item == item) return;
  list.push_back({&rel, item});
}

std::vector<std::shared_ptr<void>> SessionCore::items_to_walk(const InstanceState& owner,
                                                              const RelationshipInfo& rel,
                                                              bool whole) const {
  void* obj = owner.obj.get();
  if (whole || owner.status != ObjectStatus::persistent || rel.kind == RelationKind::many_to_one)
    return rel.current(obj);
  std::vector<std::shared_ptr<void>> out;
  auto it = appended_.find(&owner);
  if (it == appended_.end()) return out;
  // An object appended and removed since is not walked: it is the owner's no longer.
  for (const auto& a : it->second)
    if (a.rel == &rel && rel.holds(obj, a.item.get())) out.push_back(a.item);
  return out;
}

void SessionCore::forget_relation_changes() noexcept {
  for (auto* st : relation_changed_) st->relation_noted = false;
  relation_changed_.clear();
  appended_.clear();
}

void SessionCore::note_relation_change(const void* obj) {
  if (auto* s = state_of(obj)) note_relation_change(*s);
}

void SessionCore::delete_(const Mapper& m, const void* obj) {
  auto* s = state_of(obj);
  if (!s || s->status == ObjectStatus::deleted)
    throw InvalidRequestError("delete_(): this " + m.class_name +
                              " is not in the session; load or add it first");
  if (s->status == ObjectStatus::pending) {
    if (flush_gathered_) left_in_flush_.push_back({s->obj, true});  // see expunge()
    else detach(*s);
    return;
  }
  s->marked_for_delete = true;
  rows_to_add_or_remove_ = true;
}

void SessionCore::detach(InstanceState& s) {
  void* obj = s.obj.get();
  for (const auto& rel : s.mapper->relationships) {
    // An object leaving the session forgets its related objects, as close() and rollback()
    // already do: back-population links both sides with shared_ptr (user->posts holds the
    // post, post->author the user), a cycle that would otherwise never be freed.
    rel->expire(obj);
    SessionAccess::owner(rel->field(obj)) = nullptr;
  }
  if (s.status != ObjectStatus::pending) {
    identity_.erase_if_is(&s);
  }
  // Left in relation_changed_ rather than searched for there: deleting or expunging n noted
  // objects one by one would cost O(n^2). Its record of appended objects goes (the address may
  // be a new state's soon).
  if (s.relation_noted) appended_.erase(&s);
  forget_changes_of(obj);
  states_.erase(s);  // destroys s
}

void SessionCore::leave_parents(const std::vector<InstanceState*>& gone) {
  // A deleted row is no longer among its parent's children: the parent's loaded collection
  // (or one-to-one) lets go of it, as a reload would find. Found through the object's own
  // reference when loaded, else by its foreign key in the identity map. Each collection is
  // gone through once, however many of its objects were deleted.
  Removals left;
  for (auto* s : gone) {
    void* obj = s->obj.get();
    for (const auto& rel : s->mapper->relationships) {
      if (!rel->back) continue;
      if (rel->kind == RelationKind::many_to_many) {
        for (auto& other : rel->current(obj)) left.add(*rel->back, std::move(other), obj);
        continue;
      }
      if (rel->kind != RelationKind::many_to_one) continue;
      if (auto parent = parent_in_session(*rel, obj, rel->fk->get(obj)))
        left.add(*rel->back, std::move(parent), obj);
    }
  }
  left.apply();
}

void SessionCore::leave_collections(const std::vector<InstanceState*>& gone) {
  // The relationships (collections and one-to-ones of other objects) that may hold a deleted
  // object, each with the deleted objects to look for in them.
  std::unordered_map<const RelationshipInfo*, std::unordered_set<const void*>> holding;
  std::unordered_map<const Mapper*, std::vector<const RelationshipInfo*>> one_sided;
  for (const Mapper* m : db_.mappers_of_every_bind())
    for (const auto& rel : m->relationships)
      if (!rel->back && rel->kind != RelationKind::many_to_one)
        one_sided[&rel->target()].push_back(rel.get());
  for (const auto* s : gone) {
    const void* obj = s->obj.get();
    for (const auto& rel : s->mapper->relationships)
      if (rel->kind == RelationKind::many_to_many && rel->back &&
          !SessionAccess::loaded(rel->field(s->obj.get())))
        holding[rel->back].insert(obj);
    if (auto it = one_sided.find(s->mapper); it != one_sided.end())
      for (const auto* rel : it->second) holding[rel].insert(obj);
  }
  if (holding.empty()) return;
  for (auto& st : states_)
    for (const auto& [rel, objects] : holding) {
      if (st.mapper != rel->owner || !SessionAccess::loaded(rel->field(st.obj.get()))) continue;
      for (const auto& item : rel->current(st.obj.get()))
        if (objects.contains(item.get())) rel->remove_item(st.obj.get(), item.get());
    }
}

InstanceState* SessionCore::referred_in_session(const RelationshipInfo& rel,
                                                const Value& key) const {
  // The identity map knows objects by primary key: a foreign key to another column (a unique
  // one) cannot be looked up there.
  const Mapper& target = rel.target();
  if (is_null(key) || target.primary_key.size() != 1 ||
      &referenced_column(*rel.fk, target) != target.primary_key.front())
    return nullptr;
  return identity_.find(&target, key);
}

std::shared_ptr<void> SessionCore::parent_in_session(const RelationshipInfo& rel, void* obj,
                                                     const Value& key) const {
  if (SessionAccess::loaded(rel.field(obj))) {
    auto held = rel.current(obj);
    return held.empty() ? nullptr : held.front();
  }
  auto* parent = referred_in_session(rel, key);
  return parent ? parent->obj : nullptr;
}

void SessionCore::forget_changes_of(const void* obj) {
  note_parented(obj);
  if (links_.empty()) return;
  auto before = links_.size();
  std::erase_if(links_, [obj](const LinkChange& l) {
    return l.left.get() == obj || l.right.get() == obj;
  });
  if (links_.size() == before) return;
  link_index_.clear();
  for (std::size_t i = 0; i < links_.size(); ++i)
    link_index_.emplace(std::make_tuple(links_[i].rel->secondary_table.name,
                                        static_cast<const void*>(links_[i].left.get()),
                                        static_cast<const void*>(links_[i].right.get())),
                        i);
}

void SessionCore::expunge(const void* obj) {
  auto* s = state_of(obj);
  if (!s) return;
  if (flush_gathered_) {
    // From a handler of the flush, which may still write the object's row or fire its events
    // (an after_insert handler of one row expunging another of the same flush): it leaves
    // when the flush ends.
    left_in_flush_.push_back({s->obj, false});
    return;
  }
  detach(*s);
}

void SessionCore::expunge_deferred() noexcept {
  if (left_in_flush_.empty()) return;
  auto left = std::move(left_in_flush_);
  left_in_flush_.clear();
  for (const auto& [obj, deleted] : left) {
    auto* s = state_of(obj.get());
    if (!s) continue;
    if (deleted && s->status == ObjectStatus::persistent) {
      // The flush inserted it: its row goes at the next flush (commit's, when the handler
      // ran in one).
      s->marked_for_delete = true;
      rows_to_add_or_remove_ = true;
    } else if (!deleted || s->status == ObjectStatus::pending) {
      detach(*s);
    }
  }
}

namespace {
// expunge_all(), rollback() and close() from a handler of the flush would free the states the
// flush is working on; commit() would commit what the flush has written so far, so that a
// later failure of the flush could roll back only the rest.
void refuse_while_flushing(bool flushing, const char* what) {
  if (flushing)
    throw InvalidRequestError(std::string(what) +
                              " cannot run while the session flushes (from an event handler "
                              "of the flush): the flush is working on the objects it would let "
                              "go of, and its rows commit or roll back together; do it after "
                              "the flush, or in after_commit");
}
}  // namespace

void SessionCore::expunge_all() {
  refuse_while_flushing(flushing_, "expunge_all()");
  // detach() for every object, without looking each one up in the identity map and the
  // relationship list: both are emptied whole.
  for (auto& s : states_) {
    // An object that only the session holds is destroyed here: nothing can reach its fields
    // afterwards. An object held elsewhere leaves with its relationships expired and detached.
    // Each object is released in the same pass, while its counts are in cache, rather than in
    // a second pass over every object when the states are freed below. (No object of the
    // session dies with another: each is held by its own state until its turn.)
    if (!s.mapper->relationships.empty() && s.obj.use_count() != 1) {
      void* raw = s.obj.get();
      for (const auto& rel : s.mapper->relationships) {
        rel->expire(raw);
        SessionAccess::owner(rel->field(raw)) = nullptr;
      }
    }
    s.obj.reset();
  }
  keys_assigned_in_txn_ = false;
  identity_.clear();
  forget_relation_changes();
  links_.clear();
  link_index_.clear();
  orphans_.clear();
  states_.clear();
}

bool SessionCore::is_modified(const void* obj) const {
  auto* s = state_of(obj);
  if (!s) return false;
  if (s->status == ObjectStatus::pending) return true;
  for (const auto& c : s->mapper->columns)
    if (!c->equal(obj, s->snapshot.cell(c->index))) return true;
  return false;
}

void SessionCore::flush_until_clean() {
  // As SQLAlchemy's commit: handlers of a flush (after_insert, after_flush...) may change or
  // add objects; they are written before COMMIT. A flush in which no handler ran leaves
  // nothing behind.
  constexpr int max_flushes = 100;
  for (int i = 0; i < max_flushes; ++i) {
    Flush f(*this);
    if (!f.run() || !f.handlers_ran()) return;
  }
  abort_transaction("event handlers changed objects in each of " +
                    std::to_string(max_flushes) + " flushes");
  throw FlushError("commit(): event handlers changed objects in each of " +
                   std::to_string(max_flushes) +
                   " flushes in a row; is an after_flush or after_insert handler adding or "
                   "changing objects every time?");
}

void SessionCore::commit() {
  check_usable();
  refuse_while_flushing(flushing_, "commit()");
  // Read once: the handlers of this commit, or null (then this costs nothing more).
  const auto events = facade ? db_.events.snapshot() : nullptr;
  if (events) {
    try {
      fire((*events)[SessionEvent::before_commit], *facade);
    } catch (...) {
      abort_transaction("a before_commit handler failed: " + current_exception_message());
      throw;
    }
    flush_until_clean();
    if (model_changes_ && !model_changes_->empty() &&
        !(*events)[Signal::before_models_committed].empty()) {
      try {
        // A copy: a receiver that flushes adds to the log.
        const auto pending = model_changes_->list();
        fire((*events)[Signal::before_models_committed], *facade, pending);
      } catch (...) {
        abort_transaction("a before_models_committed receiver failed: " +
                          current_exception_message());
        throw;
      }
      flush_until_clean();
    }
  } else {
    flush();
  }
  // One transaction per database, committed in turn (the default first): when a later COMMIT
  // fails, the earlier ones stand, as with SQLAlchemy's binds without two-phase commit.
  auto commit = [this](engine::Transaction& txn) {
    try {
      txn.commit();
    } catch (const Error& e) {
      // The database ended the transaction itself (PostgreSQL's COMMIT of a transaction a
      // failed statement aborted): the session's is over too, and it refuses work until
      // rollback() puts its objects back, as after a failed flush.
      if (!txn.active()) abort_transaction(std::string("COMMIT failed: ") + e.what());
      throw;
    }
  };
  // Each transaction goes once committed: when a later one's COMMIT fails (and leaves it
  // open, to be retried), a second commit() commits only what is still open, and work done
  // meanwhile begins a new transaction where the old one was committed.
  if (txn_) {
    commit(*txn_);
    txn_.reset();
  }
  for (auto& b : bind_connections_)
    if (b.txn) {
      commit(*b.txn);
      b.txn.reset();
    }
  end_transaction();
  std::vector<InstanceState*> gone;
  keys_assigned_in_txn_ = false;
  wrote_in_txn_ = false;
  for (auto& s : states_) {
    s.inserted_in_txn = false;
    s.key_assigned_by_db = false;
    s.loaded_after_write = false;
    if (s.status == ObjectStatus::deleted) gone.push_back(&s);
  }
  states_.release_saved();
  if (!gone.empty()) leave_collections(gone);
  leave_parents(gone);
  for (auto* s : gone) detach(*s);
  states_.compact_snapshots();
  std::vector<ModelChange> committed;
  if (model_changes_) committed = model_changes_->take();
  if (!events) return;
  // The commit stands whatever the handlers do now: an exception reaches the caller.
  if (!committed.empty()) fire((*events)[Signal::models_committed], *facade, committed);
  fire((*events)[SessionEvent::after_commit], *facade);
}

bool SessionCore::roll_back_and_forget_changes() {
  const bool had_transaction = in_transaction();
  roll_back_transactions();
  failed_flush_.clear();
  forget_relation_changes();
  links_.clear();
  link_index_.clear();
  orphans_.clear();
  rows_to_add_or_remove_ = false;
  if (model_changes_) model_changes_->clear();
  return had_transaction;
}

void SessionCore::fire_after_rollback(bool had_transaction) {
  if (had_transaction && facade)
    if (auto events = db_.events.snapshot()) fire((*events)[SessionEvent::after_rollback], *facade);
}

void SessionCore::rollback() {
  refuse_while_flushing(flushing_, "rollback()");
  const bool had_transaction = roll_back_and_forget_changes();
  std::vector<InstanceState*> drop;
  std::vector<InstanceState*> stale;
  for (auto& s : states_) {
    if (s.status == ObjectStatus::pending || s.inserted_in_txn) {
      drop.push_back(&s);
      continue;
    }
    // An object read again below never takes the identity map's place from one that is not:
    // that one was there before the transaction (which deleted its row and made another).
    const bool stale_state = s.loaded_after_write;
    auto take_identity = [&](const Value& key) {
      if (stale_state) {
        const InstanceState* holder = identity_.find(s.mapper, key);
        if (holder && holder != &s) return;  // reload_after_rollback() lets s go
      }
      identity_.put(&s);
    };
    if (stale_state) {
      s.loaded_after_write = false;
      stale.push_back(&s);
    }
    if (s.status == ObjectStatus::deleted) {
      s.status = ObjectStatus::persistent;
      take_identity(identity_in_snapshot(s));
    }
    s.marked_for_delete = false;
    // When an UPDATE of the transaction changed the primary key, the identity map follows it
    // back to the restored one.
    const bool key_restored = std::any_of(s.mapper->primary_key.begin(),
                                          s.mapper->primary_key.end(),
                                          [&s](const ColumnInfo* k) { return s.saved(k->index); });
    s.restore_saved();
    void* raw = s.obj.get();
    for (const auto& c : s.mapper->columns)
      if (!c->equal(raw, s.snapshot.cell(c->index)))
        c->set(raw, c->from_snapshot(s.snapshot[c->index]));
    if (key_restored) {
      Value key = identity_of(*s.mapper, raw);
      if (!(ValueRef(key) == s.key.ref())) {
        identity_.erase_if_is(&s);
        s.key = key;
        take_identity(key);
      }
    }
    for (const auto& rel : s.mapper->relationships) rel->expire(raw);
  }
  // A dropped object keeps the objects its many-to-one relationships hold, as SQLAlchemy's
  // transient objects do, and they count as assigned: adding it again adds them too, and the
  // flush fills its foreign key from their keys then. Forgotten, the key the flush copied from
  // a parent whose INSERT is rolled back would name whichever row takes that id next.
  // The edges kept must not close a cycle, which would hold its objects alive: only dropped
  // objects keep theirs (the others' were expired above), so a depth-first walk over them
  // keeps every edge but those that lead back to an object the walk is still in.
  struct Kept {
    std::shared_ptr<void> obj;
    const RelationshipInfo* rel;
    std::shared_ptr<void> target;
  };
  std::vector<Kept> kept;
  enum Mark : unsigned char { unseen, walking, done };
  std::unordered_map<const void*, std::pair<InstanceState*, Mark>> dropped;
  for (auto* s : drop) dropped.emplace(s->obj.get(), std::pair{s, unseen});
  struct Frame {
    InstanceState* st;
    std::size_t next_rel = 0;
  };
  std::vector<Frame> walk;
  for (auto* root : drop) {
    auto& root_mark = dropped[root->obj.get()].second;
    if (root_mark != unseen) continue;
    root_mark = walking;
    walk.push_back({root});
    while (!walk.empty()) {
      Frame& f = walk.back();
      const auto& rels = f.st->mapper->relationships;
      if (f.next_rel == rels.size()) {
        dropped[f.st->obj.get()].second = done;
        walk.pop_back();
        continue;
      }
      const auto& rel = rels[f.next_rel++];
      void* raw = f.st->obj.get();
      if (rel->kind != RelationKind::many_to_one || !SessionAccess::loaded(rel->field(raw)))
        continue;
      auto targets = rel->current(raw);
      if (targets.empty()) continue;
      auto it = dropped.find(targets.front().get());
      if (it != dropped.end() && it->second.second == walking) continue;  // closes a cycle
      kept.push_back({f.st->obj, rel.get(), targets.front()});
      if (it != dropped.end() && it->second.second == unseen) {
        it->second.second = walking;
        walk.push_back({it->second.first});  // f is not used after this
      }
    }
  }
  for (auto* s : drop) {
    // Pending, or inserted in this transaction: the row is gone, the object is transient.
    if (s->key_assigned_by_db) s->mapper->autoincrement->clear_key(s->obj.get());
    detach(*s);
  }
  for (auto& k : kept) k.rel->set_target(k.obj.get(), std::move(k.target), true);
  keys_assigned_in_txn_ = false;  // only states inserted in this transaction had them
  reload_after_rollback(stale);
  states_.release_saved();
  states_.compact_snapshots();
  // The rollback stands whatever the handlers do: an exception reaches the caller.
  fire_after_rollback(had_transaction);
}

void SessionCore::reload_after_rollback(const std::vector<InstanceState*>& stale) {
  // What SQLAlchemy's rollback does by expiring every object, for these only (and at once,
  // where SQLAlchemy reads an expired object on its next use): the others' snapshots were
  // taken before the transaction wrote, and rollback() has put them back. The objects of a
  // table with a one-column key are read up to selectin_chunk a statement (WHERE key IN
  // (...)), the others one SELECT by key each; a row that does not load (a value its
  // member's type refuses) is the only one lost.
  wrote_in_txn_ = false;
  if (stale.empty()) return;
  std::vector<InstanceState*> gone;
  std::vector<const DatabaseCore*> unreadable;  // an OperationalError there: no more tries
  auto readable = [&](const Mapper& m) {
    return std::find(unreadable.begin(), unreadable.end(), &db_.core_for(m)) == unreadable.end();
  };
  // A statement failed: PostgreSQL refuses more statements in its transaction, and after an
  // OperationalError (a lost connection, a lock) that database is not read again.
  auto failed = [&](const Mapper& m, bool operational) {
    if (operational) unreadable.push_back(&db_.core_for(m));
    roll_back_transactions();
  };
  // The objects to read with their keys, by mapper, in the order rollback() gave them. An
  // object whose identity another object holds again (rollback() above) is that other's, and
  // leaves.
  using Keyed = std::vector<std::pair<Value, InstanceState*>>;
  std::vector<std::pair<const Mapper*, Keyed>> by_mapper;
  for (InstanceState* st : stale) {
    const Mapper& m = *st->mapper;
    Value key = identity_in_snapshot(*st);
    if (identity_.find(&m, key) != st) {
      gone.push_back(st);
      continue;
    }
    auto it = std::find_if(by_mapper.begin(), by_mapper.end(),
                           [&](const auto& g) { return g.first == &m; });
    if (it == by_mapper.end()) it = by_mapper.insert(by_mapper.end(), {&m, {}});
    it->second.emplace_back(std::move(key), st);
  }
  for (auto& [mp, states] : by_mapper) {
    const Mapper& m = *mp;
    if (m.primary_key.size() != 1) {
      for (const auto& entry : states) {
        InstanceState* st = entry.second;
        bool read = false;
        if (readable(m)) {
          try {
            auto stmt = connection(m).prepare_cached(sql_for(m).get_by_key);
            int p = 0;
            for (const auto* k : m.primary_key)
              stmt->bind(p++, k->from_snapshot(st->snapshot[k->index]));
            if (stmt->step()) {
              Loader::overwrite(*this, *st, *stmt);
              read = true;
            }
          } catch (const OperationalError&) {
            failed(m, true);
          } catch (...) {
            failed(m, false);
          }
        }
        if (!read) gone.push_back(st);
      }
      continue;
    }
    const ColumnInfo& key = *m.primary_key.front();
    for (std::size_t from = 0; from < states.size(); from += selectin_chunk) {
      const std::size_t n = std::min(selectin_chunk, states.size() - from);
      std::map<Value, InstanceState*, ValueLess> waiting;
      std::vector<sql::ExprPtr> items;
      items.reserve(n);
      for (std::size_t i = from; i < from + n; ++i) {
        items.push_back(sql::param(states[i].first));
        waiting.emplace(std::move(states[i].first), states[i].second);
      }
      if (readable(m)) {
        try {
          sql::Select select;
          select.columns = sql_for(m).column_exprs;
          select.from = m.table_name();
          select.where = sql::in(sql::column(m.table_name(), key.column.name), std::move(items));
          auto compiled = sql::compile(select, dialect_for(m));
          auto stmt = connection(m).prepare_cached(compiled.sql);
          stmt->bind_all(compiled.params);
          while (stmt->step()) {
            auto it = waiting.find(key.row_value(*stmt, static_cast<int>(key.index)));
            if (it == waiting.end()) continue;
            InstanceState* st = it->second;
            waiting.erase(it);
            try {
              Loader::overwrite(*this, *st, *stmt);
            } catch (...) {
              gone.push_back(st);  // this row only; the statement goes on
            }
          }
        } catch (const OperationalError&) {
          failed(m, true);
        } catch (...) {
          failed(m, false);
        }
      }
      // Their rows gone (inserted by execute()), or not read: what was not read cannot be
      // trusted, and leaves the session rather than keep values the rollback undid.
      for (auto& [v, st] : waiting) gone.push_back(st);
    }
  }
  roll_back_transactions();  // the reads' own transaction: nothing written, nothing held
  for (auto* st : gone) detach(*st);
}

void SessionCore::close() {
  refuse_while_flushing(flushing_, "close()");
  // rollback() without restoring objects from their snapshots: they leave the session with
  // the values they have in memory (SQLAlchemy's close() expunges them before its ROLLBACK),
  // and a session that read many objects closes without comparing each one. Objects whose
  // INSERT the ROLLBACK undoes lose their database-assigned key, as with rollback().
  const bool had_transaction = roll_back_and_forget_changes();
  wrote_in_txn_ = false;
  if (keys_assigned_in_txn_) {
    for (auto& s : states_)
      if (s.key_assigned_by_db) s.mapper->autoincrement->clear_key(s.obj.get());
  }
  try {
    fire_after_rollback(had_transaction);
  } catch (...) {
    expunge_all();  // a handler failed; the session still closes
    throw;
  }
  expunge_all();
}

void SessionCore::do_autoflush() {
  check_usable();
  if (autoflush && !flushing_) flush();
}

bool SessionCore::autoflush_before(DatabaseCore& core, std::vector<std::string> tables) {
  // Narrowed, as get()'s and lazy loads' are, to what can change the rows a SELECT reads:
  // rows to add or remove anywhere (new, deleted and re-parented objects, whose cascades
  // reach further than their own table), or a changed column of an object of a table the
  // SELECT reads, or of a table whose changed key an ON UPDATE action carries into one of
  // those. A changed column of any other table cannot change its rows; it is flushed by the
  // next query that reads it, or by the commit. (Hibernate's AUTO flush narrows so too, by
  // the query's tables.) Comparing every object the session holds with its snapshot before
  // each query made a query per object cost O(n^2). A table whose foreign keys are unknown
  // (its model not registered yet) may be reached from any table: then every object counts.
  check_usable();
  if (!autoflush || flushing_ || states_.size() == 0) return false;
  if (!rows_to_add_or_remove_) {
    const bool known = core.add_tables_updating(tables);
    if (known ? !states_.any_persistent_changed(tables) : !states_.any_persistent_changed())
      return false;
  }
  return Flush(*this).run();
}

bool SessionCore::autoflush_before(DatabaseCore& core, const sql::Select& s) {
  if (!autoflush || flushing_ || states_.size() == 0) {
    check_usable();
    return false;
  }
  std::vector<std::string> tables;
  sql::tables_read(s, tables);
  return autoflush_before(core, std::move(tables));
}

}  // namespace detail

// Relationship fields reach their session through these.
namespace detail {

std::shared_ptr<void> RelationField::load_target() const {
  return owner_->session().load_target(*owner_, *rel_);
}

std::vector<std::shared_ptr<void>> RelationField::load_items() const {
  return owner_->session().load_items(*owner_, *rel_);
}

void RelationField::throw_not_loaded() const {
  std::string what = rel_ ? "relationship '" + rel_->owner->class_name + "." + rel_->name + "'"
                          : std::string("this relationship");
  throw DetachedInstanceError(what +
                              " is not loaded and its object is not in a session (it was "
                              "streamed, expunged, or its session closed)");
}

void RelationField::throw_null_item() const {
  std::string what = rel_ ? "relationship '" + rel_->owner->class_name + "." + rel_->name + "'"
                          : std::string("a collection");
  throw ArgumentError(what + " cannot hold a null object (a get() or first() that found "
                      "nothing?)");
}

std::shared_ptr<void> RelationField::load_one() const {
  return owner_->session().load_one(*owner_, *rel_);
}

void RelationField::on_target_changed(const std::shared_ptr<void>& old_target,
                                      const std::shared_ptr<void>& new_target) {
  if (!owner_) return;
  auto& session = owner_->session();
  session.note_relation_change(*owner_);
  if (new_target) session.note_parented(owner_->obj.get());
  if (!rel_->back) return;
  // Let go of by its parent from this side (post->author = nullptr): an orphan, as when the
  // parent's collection lets go of it, for the parent's delete-orphan cascade.
  if (old_target && !new_target && rel_->back->cascade.delete_orphan)
    session.note_orphan(*rel_->back, owner_->obj);
  if (old_target) rel_->back->remove_item(old_target.get(), owner_->obj.get());
  if (new_target) session.back_add(*rel_->back, new_target, owner_->obj);
}

void RelationField::on_unloaded_target_changed(const std::shared_ptr<void>& new_target) {
  if (!owner_) return;
  auto& session = owner_->session();
  if (auto old = session.held_target(*owner_, *rel_)) return on_target_changed(old, new_target);
  on_target_changed(nullptr, new_target);
  // Let go of a parent the session does not hold (post->author = nullptr on a post whose
  // author was never loaded): an orphan all the same, for the parent's delete-orphan cascade.
  if (!new_target && rel_->back && rel_->back->cascade.delete_orphan &&
      !is_null(rel_->fk->get(owner_->obj.get())))
    session.note_orphan(*rel_->back, owner_->obj);
}

void RelationField::on_item_added(const std::shared_ptr<void>& item) {
  if (!owner_) return;
  auto& session = owner_->session();
  session.note_appended(*owner_, *rel_, item);
  if (rel_->kind == RelationKind::many_to_many) {
    if (rel_->back) rel_->back->add_item(item.get(), owner_->obj);
    session.note_link(*rel_, owner_->obj, item, true);
    return;
  }
  session.note_parented(item.get());
  if (!rel_->back) return;
  // The item leaves its previous parent's collection, if that is loaded: the parent its back
  // reference holds, or, that not loaded, the one the session holds under its foreign key.
  std::vector<std::shared_ptr<void>> old_parents;
  auto& back_field = rel_->back->field(item.get());
  if (SessionAccess::loaded(back_field)) {
    old_parents = rel_->back->current(item.get());
  } else if (auto* item_state = SessionAccess::owner(back_field)) {
    if (auto held = session.held_target(*item_state, *rel_->back)) old_parents.push_back(held);
  }
  for (auto& old_parent : old_parents)
    if (old_parent != owner_->obj) rel_->remove_item(old_parent.get(), item.get());
  rel_->back->set_target(item.get(), owner_->obj, true);
}

void RelationField::check_joinable(const void* item) const {
  if (!owner_) return;
  const Mapper& target = rel_->target();
  // Which session holds it: its relationships say so; without one, this session is asked
  // (another session's hold cannot be seen then).
  const InstanceState* holder =
      target.relationships.empty()
          ? owner_->session().state_of(item)
          : SessionAccess::owner(target.relationships.front()->field(const_cast<void*>(item)));
  if (holder && &holder->session() != &owner_->session())
    throw InvalidRequestError(describe(target, item) + " is already in another session; " +
                              "expunge() it from that session (or close it) before putting it " +
                              "in " + rel_->owner->class_name + "." + rel_->name +
                              " of an object of this one");
  // As add() of it refuses: its row is gone, and the cascade that would add it again skips
  // an object the session holds.
  if (holder && holder->status == ObjectStatus::deleted)
    throw InvalidRequestError(describe(target, item) + " was deleted and its DELETE flushed in " +
                              "this transaction, so " + rel_->owner->class_name + "." +
                              rel_->name + " cannot take it; rollback() brings it back, or use " +
                              "a new object for a new row");
}

bool RelationField::removal_refused() const {
  return owner_ && rel_->kind != RelationKind::many_to_many && SessionCore::release_refused(*rel_);
}

void RelationField::check_removal() const {
  if (removal_refused()) SessionCore::check_release(*rel_);
}

void RelationField::on_item_removed(const std::shared_ptr<void>& item) {
  if (!owner_) return;
  auto& session = owner_->session();
  session.note_relation_change(*owner_);
  if (rel_->kind == RelationKind::many_to_many) {
    if (rel_->back) rel_->back->remove_item(item.get(), owner_->obj.get());
    session.note_link(*rel_, owner_->obj, item, false);
    return;
  }
  session.release(*rel_, item);
}

}  // namespace detail

Session::Session(Database& db) : core_(std::make_unique<detail::SessionCore>(db.core())) {
  core_->facade = this;
}

Session::Session(Session&& other) noexcept : core_(std::move(other.core_)) {
  if (core_) core_->facade = this;
}

Session& Session::operator=(Session&& other) noexcept {
  if (this == &other) return *this;
  if (core_) {
    try {
      core_->close();
    } catch (...) {
    }
    core_->facade = nullptr;
  }
  core_ = std::move(other.core_);
  if (core_) core_->facade = this;
  return *this;
}

Session::~Session() {
  if (!core_) return;
  // Closed here, while this Session is whole, so after_rollback handlers can receive it.
  try {
    core_->close();
  } catch (...) {
    // Destructors never throw; the connection's own guard rolls back.
  }
  core_->facade = nullptr;
  core_.reset();
}

}  // namespace strata
