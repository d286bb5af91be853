// The flush: organize (cascade new objects in, collect work per mapper), emit (INSERT and
// UPDATE parents-first in foreign-key order, DELETE children-first), finalize (identity map,
// snapshots). A failure rolls the transaction back and leaves the session needing rollback().
// Model and session event handlers run at their points of the pipeline.
#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>

#include "database_core.hpp"
#include "session_internal.hpp"
#include "strata/error.hpp"
#include "strata/sql/compiler.hpp"

namespace strata::detail {

void SessionCore::flush() {
  // SQLAlchemy's "Session is already flushing": a handler's flush() would do nothing (the
  // flush that runs it writes what it changes), and saying so beats a silent no-op. A query
  // from a handler still runs, without autoflush.
  if (flushing_)
    throw InvalidRequestError("flush() cannot run while the session flushes (from an event "
                              "handler of the flush): the flush under way writes what the "
                              "handler changes, or the next flush does");
  Flush(*this).run();
}

namespace {

bool refers_to_itself(const Mapper& m) {
  for (const auto& fk : m.table().foreign_keys)
    if (fk.referred_table == m.table_name()) return true;
  return false;
}

// Whether column c (a foreign key: c.references is set) refers to a column of m.
bool refers_to(const ColumnInfo& c, const Mapper& m) {
  const auto& r = *c.references;
  return r.target_mapper ? &r.target_mapper() == &m : r.table == m.table_name();
}

// Whether a one-to-many or one-to-one of m holds rows of m itself (an adjacency list's
// children), whose foreign key the flush fills from the parent.
bool collects_its_own_rows(const Mapper& m) {
  return std::any_of(m.relationships.begin(), m.relationships.end(), [&m](const auto& rel) {
    return fk_in_target(rel->kind) && &rel->target() == &m;
  });
}

// The columns of m that refer to m itself (an adjacency list: parent_id -> id), each with the
// column it refers to.
std::vector<std::pair<const ColumnInfo*, const ColumnInfo*>> self_references(const Mapper& m) {
  std::vector<std::pair<const ColumnInfo*, const ColumnInfo*>> out;
  for (const auto& c : m.columns) {
    if (c->references && refers_to(*c, m)) out.emplace_back(c.get(), &referenced_column(*c, m));
  }
  return out;
}

// states reordered so that each comes after the states before(state) names (those of states
// among them): a depth-first walk that keeps the given order wherever nothing forces another,
// on a stack of its own (a chain of parents may be as long as the flush). States in a cycle
// keep their order; the flush then reports the cycle or the constraint.
template <class Before>
void order_by_dependencies(std::vector<InstanceState*>& states, Before before) {
  enum Mark : unsigned char { unseen, placing, placed };
  std::unordered_map<InstanceState*, Mark> mark;
  for (auto* st : states) mark.emplace(st, unseen);
  std::vector<InstanceState*> out;
  out.reserve(states.size());
  struct Frame {
    InstanceState* st;
    std::vector<InstanceState*> deps;
    std::size_t next = 0;
  };
  std::vector<Frame> stack;
  for (auto* root : states) {
    if (mark[root] != unseen) continue;
    mark[root] = placing;
    stack.push_back({root, before(*root)});
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next < f.deps.size()) {
        InstanceState* dep = f.deps[f.next++];
        auto it = mark.find(dep);
        if (it == mark.end() || it->second != unseen) continue;
        it->second = placing;
        auto deps = before(*dep);
        stack.push_back({dep, std::move(deps)});  // f is not used after this
        continue;
      }
      mark[f.st] = placed;
      out.push_back(f.st);
      stack.pop_back();
    }
  }
  states = std::move(out);
}

// A table that refers to itself: its new rows parents first (INSERT), its deleted rows children
// first (DELETE), as SQLAlchemy orders an adjacency list's rows. A parent is known by the
// relationship (a new one has no key yet) or by the key in the referring column.
template <class StateOf>
void order_self_referring(const Mapper& m, StateOf state_of,
                          std::vector<InstanceState*>& inserts,
                          std::vector<InstanceState*>& deletes) {
  const auto refs = self_references(m);
  if (refs.empty() || (inserts.size() < 2 && deletes.size() < 2)) return;
  if (inserts.size() > 1) {
    std::vector<std::map<Value, InstanceState*, ValueLess>> by_ref(refs.size());
    for (auto* st : inserts)
      for (std::size_t i = 0; i < refs.size(); ++i)
        if (refs[i].second != m.autoincrement || !refs[i].second->key_unset(st->obj.get()))
          by_ref[i].emplace(refs[i].second->get(st->obj.get()), st);
    // A new row's children of the same table held in its collections (a one-to-many with
    // no reference back) come after it too.
    std::unordered_map<InstanceState*, std::vector<InstanceState*>> collected_by;
    for (const auto& rel : m.relationships) {
      if (!fk_in_target(rel->kind) || &rel->target() != &m) continue;
      for (auto* st : inserts) {
        if (!SessionAccess::loaded(rel->field(st->obj.get()))) continue;
        for (const auto& child : rel->current(st->obj.get()))
          if (auto* cs = state_of(child.get()); cs && cs != st) collected_by[cs].push_back(st);
      }
    }
    order_by_dependencies(inserts, [&](InstanceState& st) {
      std::vector<InstanceState*> parents;
      if (auto it = collected_by.find(&st); it != collected_by.end()) parents = it->second;
      void* obj = st.obj.get();
      for (const auto& rel : m.relationships) {
        if (rel->kind != RelationKind::many_to_one || &rel->target() != &m) continue;
        if (!SessionAccess::loaded(rel->field(obj))) continue;
        for (const auto& target : rel->current(obj))
          if (auto* ts = state_of(target.get())) parents.push_back(ts);
      }
      for (std::size_t i = 0; i < refs.size(); ++i) {
        Value v = refs[i].first->get(obj);
        if (is_null(v)) continue;
        if (auto it = by_ref[i].find(v); it != by_ref[i].end() && it->second != &st)
          parents.push_back(it->second);
      }
      return parents;
    });
  }
  if (deletes.size() > 1) {
    // The rows as the database holds them: the snapshot's values.
    std::unordered_map<InstanceState*, std::vector<InstanceState*>> children;
    for (std::size_t i = 0; i < refs.size(); ++i) {
      const auto [fk, ref] = refs[i];
      std::map<Value, InstanceState*, ValueLess> by_ref;
      for (auto* st : deletes) by_ref.emplace(ref->from_snapshot(st->snapshot[ref->index]), st);
      for (auto* st : deletes) {
        Value v = fk->from_snapshot(st->snapshot[fk->index]);
        if (is_null(v)) continue;
        if (auto it = by_ref.find(v); it != by_ref.end() && it->second != st)
          children[it->second].push_back(st);
      }
    }
    if (!children.empty())
      order_by_dependencies(deletes, [&](InstanceState& st) {
        auto it = children.find(&st);
        return it == children.end() ? std::vector<InstanceState*>{} : it->second;
      });
  }
}

// Whether the flush sets a unique column of st to NULL: a relationship that held an object
// and holds none now, or the member set to NULL by hand.
bool releases_a_unique_value(const InstanceState* st) {
  void* obj = st->obj.get();
  for (const auto& rel : st->mapper->relationships) {
    if (rel->kind != RelationKind::many_to_one || !rel->fk->unique) continue;
    auto& f = rel->field(obj);
    if (SessionAccess::loaded(f) && SessionAccess::changed(f) && rel->current(obj).empty())
      return true;
  }
  Value scratch;
  for (const auto& c : st->mapper->columns)
    if (c->unique && c->column.nullable && c->snapshot(obj, scratch).is_null() &&
        !c->equal(obj, st->snapshot.cell(c->index)))
      return true;
  return false;
}

// Whether a row of m can let go of a unique value by a NULL: m has a nullable unique column.
bool may_release_unique_values(const Mapper& m) {
  return std::any_of(m.columns.begin(), m.columns.end(),
                     [](const auto& c) { return c->unique && c->column.nullable; });
}

bool is_dirty(const InstanceState& s) {
  const void* obj = s.obj.get();
  for (const auto& c : s.mapper->columns)
    if (!c->equal(obj, s.snapshot.cell(c->index))) return true;
  return false;
}

}  // namespace

bool Flush::run() {
  auto& s = session_;
  s.check_usable();
  if (s.flushing_) return false;
  // A flush finds work in rows to add or remove (noted as they happen: add(), delete_(), a
  // relationship's or a many-to-many link's change) or in columns changed since the
  // snapshot. With neither there is nothing to write, and no handler runs: checking so column
  // by column, one tight loop per chunk, costs a fraction of the pass over the states below
  // (6 ns against 25 for an object of four columns).
  if (!s.rows_to_add_or_remove_ && !s.states_.any_persistent_changed()) return false;
  s.flushing_ = true;
  struct Reset {
    SessionCore& s;
    ~Reset() {
      s.flushing_ = s.flush_gathered_ = false;
      s.expunge_deferred();
    }
  } reset{s};
  events_ = s.db_.events.snapshot();

  try {
    // The handlers may add, change and delete objects (and take a deletion back): they run
    // before anything is organized, as SQLAlchemy's do, so that the delete cascade, which
    // changes the objects it reaches, follows what they leave.
    if (events_ && !(*events_)[SessionEvent::before_flush].empty())
      fire_session(SessionEvent::before_flush);
    s.flush_gathered_ = true;
    // Deletions and orphans always come with rows_to_add_or_remove_: a flush of changed
    // columns alone skips the scan for them.
    if (s.rows_to_add_or_remove_) cascade_deletes();
    cascade();
    auto work = collect();
    if (work.empty() && s.links_.empty()) {
      s.forget_relation_changes();
      s.rows_to_add_or_remove_ = false;
      return false;
    }
    // What this flush writes is gathered: from here on the flag notes only what is added or
    // deleted meanwhile (by a model event handler), which the next flush (commit's, say) must
    // not skip.
    s.rows_to_add_or_remove_ = false;
    s.wrote_in_txn_ = true;
    switch_rows(work);
    const auto early = deletable_first(work);
    for (auto& w : work) {
      // Rows of a table that no table refers to can go first: nothing waits on them, and a
      // unique value they hold (a replaced HasOne's) is free for the new rows.
      if (early.count(w.mapper)) emit_deletes(w);
      // UPDATEs before INSERTs, as SQLAlchemy does: a row that lets go of a unique value
      // (a HasOne's previous object) does so before a new row takes it. A table that refers
      // to itself keeps INSERTs first: its updated rows may refer to its new ones.
      const bool self_ref = w.mapper && refers_to_itself(*w.mapper);
      follow_keys_set_by_hand(w.updates);
      // Rows of the table that its own one-to-many collections hold take their parent's key
      // before their INSERT or UPDATE: from a stored parent here, from a new one right after
      // its INSERT (the rows come parents first).
      const bool own_children = self_ref && collects_its_own_rows(*w.mapper);
      if (own_children)
        for (auto* st : w.updates)
          if (!rekeyed_.contains(st)) push_keys_to_children(*st, false);
      if (!self_ref) emit_updates(w.updates);
      if (own_children) {
        for (auto* st : w.inserts) {
          emit_inserts(std::vector<InstanceState*>{st});
          push_keys_to_children(*st, true);
        }
      } else {
        emit_inserts(w.inserts);
      }
      fire(handlers(*w.mapper, Event::after_insert), w.inserts);
      if (self_ref) emit_updates(w.updates);
      for (auto* st : w.inserts) push_keys_to_children(*st, true);
      for (auto* st : w.updates) push_keys_to_children(*st, false);
    }
    // Association rows once both ends have their keys, before either end is deleted; a
    // switched row's old ones go first (the new object's may be the same pairs).
    for (auto* old : switched_) emit_secondary_deletes(*old, true);
    emit_links();
    for (auto it = work.rbegin(); it != work.rend(); ++it)
      for (auto* st : it->deletes) emit_secondary_deletes(*st);
    for (auto it = work.rbegin(); it != work.rend(); ++it)
      if (!early.count(it->mapper)) emit_deletes(*it);
    release_statements();
    finalize();
    if (events_) fire_session(SessionEvent::after_flush);
  } catch (...) {
    release_statements();  // before the ROLLBACK gives the connection back
    s.abort_transaction(current_exception_message());
    throw;
  }
  return true;
}

void Flush::release_statements() noexcept {
  insert_stmt_ = {};
  insert_stmt_shape_ = nullptr;
  update_stmt_ = {};
  update_stmt_mapper_ = nullptr;
}

engine::Statement& Flush::statement(engine::CachedStatement& held, const Mapper& m,
                                    const engine::SqlText* text) {
  if (!text) {
    held->reset();
    return *held;
  }
  held = {};  // given back before the cache is asked, so that the same text finds it free
  held = session_.connection(m).prepare_cached(*text);
  return *held;
}

void Flush::emit_deletes(const MapperWork& w) {
  fire(handlers(*w.mapper, Event::before_delete), w.deletes);
  for (auto* st : w.deletes) emit_delete(*st);
  fire(handlers(*w.mapper, Event::after_delete), w.deletes);
}

const std::vector<Listener<ObjectHandler>>* Flush::handlers(const Mapper& m, Event e) {
  if (!events_) return nullptr;
  const auto* ml = events_->for_mapper(m);
  if (!ml || (*ml)[e].empty()) return nullptr;
  handlers_ran_ = true;
  return &(*ml)[e];
}

void Flush::fire(const std::vector<Listener<ObjectHandler>>* handlers,
                 const std::vector<InstanceState*>& states) {
  if (!handlers) return;
  for (auto* st : states) detail::fire(*handlers, st->obj.get(), session_.connection(*st->mapper));
}

void Flush::fire_session(SessionEvent e) {
  if (!session_.facade || (*events_)[e].empty()) return;
  handlers_ran_ = true;
  detail::fire((*events_)[e], *session_.facade);
}

std::unordered_set<const Mapper*> Flush::deletable_first(const std::vector<MapperWork>& work) {
  std::unordered_set<const Mapper*> out;
  for (const auto& w : work) {
    if (w.deletes.empty()) continue;
    const auto& tables = session_.db_.core_for(*w.mapper).metadata().tables();
    const auto& name = w.mapper->table_name();
    const bool referenced = std::any_of(tables.begin(), tables.end(), [&](const auto& t) {
      return std::any_of(t.foreign_keys.begin(), t.foreign_keys.end(),
                         [&](const auto& fk) { return fk.referred_table == name; });
    });
    if (!referenced) out.insert(w.mapper);
  }
  return out;
}

void Flush::cascade_deletes() {
  auto& s = session_;
  std::vector<InstanceState*> work;
  for (auto& st : s.states_)
    if (st.marked_for_delete && st.status == ObjectStatus::persistent) work.push_back(&st);
  // delete-orphan: objects let go of and not taken back by a parent since.
  for (auto& c : s.orphans_.take()) {
    auto* st = s.state_of(c.obj.get());
    if (!st || st->status == ObjectStatus::deleted || st->marked_for_delete) continue;
    if (c.rel->back && !c.rel->back->current(c.obj.get()).empty()) continue;
    if (st->status == ObjectStatus::pending) {
      s.detach(*st);
      continue;
    }
    st->marked_for_delete = true;
    work.push_back(st);
  }
  // What each deleted object's relationships do with the objects on their other side.
  for (std::size_t i = 0; i < work.size(); ++i) {
    InstanceState& st = *work[i];
    void* obj = st.obj.get();
    for (const auto& rel : st.mapper->relationships) {
      if (rel->kind == RelationKind::many_to_one) continue;
      // Association rows are deleted by one statement per relationship (emit_secondary_deletes);
      // the linked objects themselves only with the delete cascade.
      if (rel->kind == RelationKind::many_to_many && !rel->cascade.delete_) continue;
      const bool loaded = SessionAccess::loaded(rel->field(obj));
      if (!loaded && rel->passive_deletes) continue;  // the database's ON DELETE does it
      std::vector<std::shared_ptr<void>> related;
      if (loaded) {
        related = rel->current(obj);
      } else {
        // lazy='raise' is for the program's own reads: what the flush must know (the deleted
        // object's children, for its delete cascade or their foreign keys' NULL) loads, as
        // SQLAlchemy's unit of work does since 2.0.8.
        const SetForScope lifted(SessionAccess::raise(rel->field(obj)), false);
        related = rel->load(obj);
      }
      for (auto& other : related) {
        auto* os = s.state_of(other.get());
        if (!os || os->status == ObjectStatus::deleted || os->marked_for_delete) continue;
        if (moved_away(st, *rel, other.get())) continue;
        if (rel->cascade.delete_) {
          if (os->status == ObjectStatus::pending) {
            s.detach(*os);
            continue;
          }
          os->marked_for_delete = true;
          work.push_back(os);
          continue;
        }
        // No delete cascade: the related object stays, without a parent (SQLAlchemy's
        // default), which a NOT NULL foreign key does not allow.
        if (!rel->fk->column.nullable) throw orphaned_not_null(st, *rel);
        rel->fk->set(other.get(), null);
        if (rel->back) rel->back->set_target(other.get(), nullptr, true);
      }
    }
  }
}

void Flush::follow_keys_set_by_hand(const std::vector<InstanceState*>& states,
                                    const std::vector<const ColumnInfo*>* columns) {
  auto& s = session_;
  Removals left;  // the old parents' collections, each gone through once at the end
  const Mapper* last = nullptr;  // the states come in runs of one mapper
  const std::vector<const RelationshipInfo*>* into = nullptr;
  for (auto* st : states) {
    void* obj = st->obj.get();
    for (const auto& rel : st->mapper->relationships) {
      if (rel->kind != RelationKind::many_to_one || !rel->fk) continue;
      if (columns && std::find(columns->begin(), columns->end(), rel->fk) == columns->end())
        continue;
      if (SessionAccess::changed(rel->field(obj))) continue;  // set through it: in step
      const ColumnInfo& fk = *rel->fk;
      if (fk.equal(obj, st->snapshot.cell(fk.index))) continue;
      // post.user_id = 7: the references in memory follow the key, as a reload would find
      // them; a parent the session does not hold loads again by the key.
      const Value new_key = fk.get(obj);
      std::shared_ptr<void> old_parent;
      if (rel->back)
        old_parent = s.parent_in_session(*rel, obj, fk.from_snapshot(st->snapshot[fk.index]));
      follow_key(*st, *rel, new_key, std::move(old_parent), left);
    }
    if (st->mapper != last) {
      last = st->mapper;
      into = &one_sided_into(*last);
    }
    for (const RelationshipInfo* rel : *into) {
      const ColumnInfo& fk = *rel->fk;
      if (columns && std::find(columns->begin(), columns->end(), &fk) == columns->end()) continue;
      if (fk.equal(obj, st->snapshot.cell(fk.index))) continue;
      follow_key_into(*st, *rel, fk.from_snapshot(st->snapshot[fk.index]), fk.get(obj), left);
    }
  }
  left.apply();
}

const std::vector<const RelationshipInfo*>& Flush::one_sided_into(const Mapper& m) {
  if (!one_sided_into_) {
    one_sided_into_.emplace();
    for (const Mapper* owner : session_.db_.mappers_of_every_bind())
      for (const auto& rel : owner->relationships)
        if (!rel->back && rel->fk &&
            (rel->kind == RelationKind::one_to_many || rel->kind == RelationKind::one_to_one))
          (*one_sided_into_)[&rel->target()].push_back(rel.get());
  }
  static const std::vector<const RelationshipInfo*> none;
  auto it = one_sided_into_->find(&m);
  return it == one_sided_into_->end() ? none : it->second;
}

void Flush::follow_key_into(InstanceState& st, const RelationshipInfo& rel, const Value& before,
                            const Value& now, Removals& left) {
  // The identity map knows parents by primary key only (as referred_in_session).
  const Mapper& owner = *rel.owner;
  if (owner.primary_key.size() != 1 || &referenced_column(*rel.fk, owner) != owner.primary_key[0])
    return;
  auto parent_by = [&](const Value& key) -> InstanceState* {
    if (is_null(key)) return nullptr;
    auto* p = session_.identity_.find(&owner, key);
    return p && p->status != ObjectStatus::deleted ? p : nullptr;
  };
  InstanceState* old_parent = parent_by(before);
  InstanceState* new_parent = parent_by(now);
  if (old_parent && old_parent != new_parent && rel.holds(old_parent->obj.get(), st.obj.get()))
    left.add(rel, old_parent->obj, st.obj.get());
  if (!new_parent) return;
  void* parent = new_parent->obj.get();
  if (rel.holds(parent, st.obj.get())) return;
  if (rel.kind == RelationKind::one_to_one) {
    if (!SessionAccess::changed(rel.field(parent))) rel.expire(parent);
  } else {
    rel.add_item(parent, st.obj);  // when loaded
  }
}

void Flush::follow_key(InstanceState& st, const RelationshipInfo& rel, const Value& key,
                       std::shared_ptr<void> old_parent, Removals& left) {
  void* obj = st.obj.get();
  InstanceState* parent = session_.referred_in_session(rel, key);  // null for a NULL key
  if (is_null(key)) rel.set_target(obj, nullptr, false);
  else if (!parent) rel.expire(obj);  // a parent the session does not hold loads by the key
  else rel.set_target(obj, parent->obj, false);
  if (!rel.back) return;
  if (old_parent && (!parent || parent->obj != old_parent))
    left.add(*rel.back, std::move(old_parent), obj);
  if (!parent) return;
  if (rel.back->kind == RelationKind::one_to_one) rel.back->expire(parent->obj.get());
  else rel.back->add_item(parent->obj.get(), st.obj);  // when loaded
}

void Flush::follow_keys_of_new_rows() {
  const Mapper* last = nullptr;  // the rows come in runs of one mapper
  bool before_insert = false;
  // The collections of the objects their references held, each gone through once at the end.
  // (A parent's loaded collection takes a row in through add_item(), which looks a long list
  // up in its set of addresses.)
  Removals left;
  const std::vector<const RelationshipInfo*>* into = nullptr;
  for (auto* st : inserted_) {
    void* obj = st->obj.get();
    const Mapper& m = *st->mapper;
    if (&m != last) {
      last = &m;
      before_insert = handlers(m, Event::before_insert) != nullptr;
      into = &one_sided_into(m);
    }
    // A collection declared on the parent's side only takes in a new row that names the
    // parent by value (one appended to it holds it already).
    for (const RelationshipInfo* rel : *into)
      follow_key_into(*st, *rel, null, rel->fk->get(obj), left);
    for (const auto& rel : m.relationships) {
      if (rel->kind != RelationKind::many_to_one || !rel->fk) continue;
      auto& f = rel->field(obj);
      if (!SessionAccess::loaded(f)) continue;  // it loads by the key on first access
      // Set through the reference: the key was taken from it, unless a before_insert handler
      // changed the key after.
      if (SessionAccess::changed(f) && !before_insert) continue;
      const Value key = rel->fk->get(obj);
      auto held = rel->current(obj);
      if (held.empty()) {
        if (is_null(key)) continue;
      } else if (rel->fk->same_value(
                     obj, referenced_column(*rel->fk, rel->target()).get(held.front().get()))) {
        continue;
      }
      follow_key(*st, *rel, key, held.empty() ? nullptr : std::move(held.front()), left);
    }
  }
  left.apply();
}

bool Flush::moved_away(const InstanceState& parent, const RelationshipInfo& rel, void* child) {
  // A child whose foreign key was set by hand to another parent, or to NULL (post.user_id = 7,
  // flushed or not), may still be listed by a collection loaded before, or be read from the
  // database, where the key is not written yet: the row is not this parent's, and neither the
  // delete cascade nor the NULLing of orphans may reach it. A child put in the collection in
  // memory (its foreign key set at this flush) is this parent's: with a back reference, that
  // reference says so for each child; without one, the collections' records of what was
  // appended to them since the last flush do (this parent's, or another's).
  if (rel.kind == RelationKind::many_to_many || !rel.fk) return false;
  void* owner = parent.obj.get();
  if (rel.back) {
    // Set in memory since the last flush: the child is this parent's only if it names it
    // (it may name another, its collection not loaded here: the database still says this).
    if (SessionAccess::changed(rel.back->field(child))) {
      const auto held = rel.back->current(child);
      return held.empty() || held.front().get() != owner;
    }
  } else if (const InstanceState* holder = appended_holder(rel, child)) {
    return holder != &parent;
  }
  // The parent is deleted by its key as the database has it; a key changed by hand since
  // is not written, and may be another row's: a child that refers to it is that row's.
  const ColumnInfo& key = referenced_column(*rel.fk, *parent.mapper);
  if (rel.fk->get(child) == key.from_snapshot(parent.snapshot[key.index])) return false;
  // The child's reference to the parent is stale too: it loads again by its foreign key.
  if (rel.back) rel.back->expire(child);
  return true;
}

const InstanceState* Flush::appended_holder(const RelationshipInfo& rel, const void* child) {
  if (!appended_holders_) {
    appended_holders_.emplace();
    for (const auto& [owner, list] : session_.appended_)
      for (const auto& a : list)
        if (!a.rel->back && a.rel->holds(owner->obj.get(), a.item.get()))
          (*appended_holders_)[a.rel][a.item.get()] = owner;
  }
  auto by_rel = appended_holders_->find(&rel);
  if (by_rel == appended_holders_->end()) return nullptr;
  auto it = by_rel->second.find(child);
  return it == by_rel->second.end() ? nullptr : it->second;
}

IntegrityError Flush::orphaned_not_null(const InstanceState& parent, const RelationshipInfo& rel) {
  const Mapper& child = rel.target();
  std::string constraint;
  for (const auto& fk : child.table().foreign_keys)
    if (fk.columns.size() == 1 && fk.columns.front() == rel.fk->column.name) constraint = fk.name;
  return IntegrityError(
      "deleting " + describe(*parent.mapper, parent.obj.get()) + " would set '" +
          rel.fk->qualified_name + "' to NULL in the rows that refer to it (" +
          parent.mapper->class_name + "." + rel.name + ", foreign key '" + constraint +
          "'), but it is NOT NULL; delete them first, or declare the relationship with "
          "cascade(\"all, delete-orphan\")",
      DatabaseErrorInfo{}, ConstraintKind::foreign_key, child.table_name(), constraint);
}

void Flush::emit_links() {
  auto& s = session_;
  if (s.links_.empty()) return;
  // The SQL of each association table's INSERT and DELETE, compiled once per flush.
  std::map<std::pair<const schema::Table*, bool>, std::string> texts;
  // Removed links first, then new ones (a link removed and added again is no change).
  for (const bool inserting : {false, true}) {
    for (const auto& l : s.links_) {
      if (l.linked == l.was_linked || l.linked != inserting) continue;
      const RelationshipInfo& rel = *l.rel;
      const auto* ls = s.state_of(l.left.get());
      const auto* rs = s.state_of(l.right.get());
      auto gone = [](const InstanceState* st) {
        return st && (st->status == ObjectStatus::deleted || st->marked_for_delete);
      };
      if (gone(ls) || gone(rs)) continue;  // its rows go with the object
      const Mapper& left_mapper = rel.local_is_left ? *rel.owner : rel.target();
      const Mapper& right_mapper = rel.local_is_left ? rel.target() : *rel.owner;
      for (auto [st, m, obj] : {std::tuple{ls, &left_mapper, l.left.get()},
                                std::tuple{rs, &right_mapper, l.right.get()}})
        if (!st || st->status != ObjectStatus::persistent)
          throw FlushError(rel.owner->class_name + "." + rel.name + " links " +
                           describe(*m, obj) +
                           ", which is not in the session; add it (the save-update cascade "
                           "does so unless the relationship's cascade leaves it out)");
      const ColumnInfo& left_ref = rel.local_is_left ? *rel.local_ref : *rel.remote_ref;
      const ColumnInfo& right_ref = rel.local_is_left ? *rel.remote_ref : *rel.local_ref;
      const auto& t = rel.secondary_table;
      const auto& left_col = t.columns[0].name;
      const auto& right_col = t.columns[1].name;
      auto& text = texts[{&t, inserting}];
      if (text.empty()) {
        auto column = [&](const std::string& name) { return sql::column(t.name, name); };
        if (inserting) {
          sql::Insert ins;
          ins.table = t.name;
          ins.columns = {left_col, right_col};
          ins.rows.push_back({sql::placeholder(), sql::placeholder()});
          text = sql::compile(ins, s.dialect_for(*rel.owner)).sql;
        } else {
          sql::Delete del;
          del.table = t.name;
          del.where = sql::and_(sql::binary(sql::BinaryOp::eq, column(left_col), sql::placeholder()),
                                sql::binary(sql::BinaryOp::eq, column(right_col), sql::placeholder()));
          text = sql::compile(del, s.dialect_for(*rel.owner)).sql;
        }
      }
      auto stmt = s.connection(*rel.owner).prepare_cached(text);
      stmt->bind(0, left_ref.get(l.left.get()));
      stmt->bind(1, right_ref.get(l.right.get()));
      std::int64_t rows = 0;
      try {
        rows = stmt->execute();
      } catch (const IntegrityError& e) {
        dialect::RowContext row;
        row.table = t.name;
        row.operation = inserting ? dialect::RowContext::Operation::insert
                                  : dialect::RowContext::Operation::delete_;
        row.values = {{left_col, left_ref.get(l.left.get())},
                      {right_col, right_ref.get(l.right.get())}};
        throw s.dialect_for(*rel.owner).explain_integrity_error(
            e, row, s.connection(*rel.owner), s.db_.core_for(*rel.owner).metadata());
      }
      if (!inserting && rows != 1)
        throw StaleDataError("DELETE of the '" + t.name + "' row linking " +
                             describe(left_mapper, l.left.get()) + " and " +
                             describe(right_mapper, l.right.get()) +
                             " matched no row: it was already deleted elsewhere");
    }
  }
}

void Flush::emit_secondary_deletes(InstanceState& st, bool even_passive) {
  auto& s = session_;
  auto run = [&](const RelationshipInfo& rel, const std::string& column, const ColumnInfo& ref) {
    sql::Delete del;
    del.table = rel.secondary_table.name;
    del.where = sql::binary(sql::BinaryOp::eq, sql::column(del.table, column), sql::placeholder());
    auto stmt =
        s.connection(*st.mapper).prepare_cached(sql::compile(del, s.dialect_for(*st.mapper)).sql);
    stmt->bind(0, ref.from_snapshot(st.snapshot[ref.index]));
    stmt->execute();
  };
  for (const auto& rel : st.mapper->relationships)
    if (rel->kind == RelationKind::many_to_many && (!rel->passive_deletes || even_passive))
      run(*rel, rel->local_column, *rel->local_ref);
  // A many-to-many relationship declared only on the other side (no back_populates): its
  // rows that refer to this object go too.
  if (!one_sided_) {
    one_sided_.emplace();
    for (const Mapper* m : s.db_.mappers_of_every_bind())
      for (const auto& rel : m->relationships)
        if (rel->kind == RelationKind::many_to_many && !rel->back)
          one_sided_->push_back(rel.get());
  }
  for (const RelationshipInfo* rel : *one_sided_)
    if (&rel->target() == st.mapper && (!rel->passive_deletes || even_passive))
      run(*rel, rel->remote_column, *rel->remote_ref);
}

void Flush::switch_rows(std::vector<MapperWork>& work) {
  auto& s = session_;
  for (auto& w : work) {
    if (w.inserts.empty() || w.deletes.empty()) continue;
    const Mapper& m = *w.mapper;
    std::vector<InstanceState*> inserts;
    inserts.reserve(w.inserts.size());
    for (auto* st : w.inserts) {
      void* obj = st->obj.get();
      for (const auto* k : m.primary_key) k->apply_default(obj);
      InstanceState* old = nullptr;
      if (!m.autoincrement || !m.autoincrement->key_unset(obj)) {
        const Value key = identity_of(m, obj);
        if (!is_null(key)) old = s.identity_.find(&m, key);
      }
      if (!old || old->status != ObjectStatus::persistent || !old->marked_for_delete) {
        inserts.push_back(st);
        continue;
      }
      // The old object is gone as after its DELETE (rollback() brings it back).
      old->status = ObjectStatus::deleted;
      old->marked_for_delete = false;
      s.identity_.erase_if_is(old);
      w.deletes.erase(std::find(w.deletes.begin(), w.deletes.end(), old));
      switched_.push_back(old);
      // The new one holds the row as the database has it: the UPDATE writes what differs. A
      // nullable column with a server default left NULL, which an INSERT would leave out,
      // keeps the row's value, as SQLAlchemy's UPDATE leaves out an attribute never set.
      for (const auto& c : m.columns) {
        c->apply_default(obj);
        st->snapshot.set(c->index, old->snapshot[c->index]);
        if (c->column.server_default && c->column.nullable && is_null(c->get(obj)))
          c->set(obj, c->from_snapshot(old->snapshot[c->index]));
      }
      st->status = ObjectStatus::persistent;
      st->inserted_in_txn = true;  // rollback() makes it transient again, as after an INSERT
      st->key = identity_of(m, obj);
      s.identity_.put(st);
      // Its collections are all new: every child takes its key (push_keys_to_children).
      took_over_.insert(st);
      touched_.push_back(st);
      w.updates.push_back(st);
      if (auto* log = s.model_changes_.get()) {
        log->record(*old, ModelOperation::delete_);
        log->record(*st, ModelOperation::insert);
      }
    }
    w.inserts = std::move(inserts);
  }
}

void Flush::cascade() {
  auto& s = session_;
  std::vector<InstanceState*> work;
  for (auto& st : s.states_)
    if (st.status == ObjectStatus::pending) work.push_back(&st);
  auto changed = s.relation_changed_;  // cascade_add may append to it
  work.insert(work.end(), changed.begin(), changed.end());
  // An object being deleted brings nothing new in: a new child appended to it stays out. A
  // state erased meanwhile has no object (StateTable::erase); checking that rather than
  // looking the object up spares a probe of the address index per object.
  for (auto* st : work)
    if (st->obj && !st->marked_for_delete) s.cascade_add(*st);
  // Objects on the other end of a changed relationship may need their foreign key updated:
  // all those of a new object, or of one whose key changed; of another object, those its
  // collections gained since the last flush (the others have its key already).
  for (auto* st : s.relation_changed_) {
    void* obj = st->obj.get();
    // Detached since it was listed: a free slot, not touched, so that a state a handler adds
    // during this flush, which may take the slot, keeps its changes for the next flush.
    if (!obj) continue;
    touched_.push_back(st);
    for (const auto& rel : st->mapper->relationships) {
      bool whole = true;
      if (st->status == ObjectStatus::persistent && rel->kind != RelationKind::many_to_one) {
        if (!SessionAccess::changed(rel->field(obj))) continue;
        whole = false;
        if (fk_in_target(rel->kind) && rel->fk) {
          const ColumnInfo& key = referenced_column(*rel->fk, *st->mapper);
          whole = !key.equal(obj, st->snapshot.cell(key.index));
          if (whole) rekeyed_.insert(st);
        }
      }
      for (auto& other : s.items_to_walk(*st, *rel, whole))
        if (auto* os = s.state_of(other.get())) touched_.push_back(os);
    }
  }
}

std::vector<Flush::MapperWork> Flush::collect() {
  auto& s = session_;
  std::unordered_set<InstanceState*> affected(touched_.begin(), touched_.end());
  std::unordered_map<const Mapper*, int> rank;
  std::map<int, MapperWork> by_rank;
  auto work_for = [&](InstanceState* st) -> MapperWork& {
    auto it = rank.find(st->mapper);
    if (it == rank.end()) it = rank.emplace(st->mapper, s.db_.rank_of(*st->mapper)).first;
    auto& w = by_rank[it->second];
    w.mapper = st->mapper;
    return w;
  };
  for (auto& state : s.states_) {
    auto* st = &state;
    switch (st->status) {
      case ObjectStatus::deleted: break;
      case ObjectStatus::pending: work_for(st).inserts.push_back(st); break;
      case ObjectStatus::persistent:
        if (st->marked_for_delete) work_for(st).deletes.push_back(st);
        else if (affected.count(st) || is_dirty(*st)) work_for(st).updates.push_back(st);
        break;
    }
  }
  std::vector<MapperWork> out;
  auto by_seq = [](const InstanceState* a, const InstanceState* b) { return a->seq < b->seq; };
  for (auto& [r, w] : by_rank) {
    // The table holds states mostly in add() order already: sort only when it does not.
    for (auto* v : {&w.inserts, &w.updates, &w.deletes})
      if (!std::is_sorted(v->begin(), v->end(), by_seq)) std::sort(v->begin(), v->end(), by_seq);
    order_self_referring(
        *w.mapper, [&s](const void* obj) { return s.state_of(obj); }, w.inserts, w.deletes);
    // Rows that let go of a unique value (a one-to-one's released object, its key set to
    // NULL) are updated before the rows that may take it.
    if (may_release_unique_values(*w.mapper))
      std::stable_partition(w.updates.begin(), w.updates.end(), releases_a_unique_value);
    out.push_back(std::move(w));
  }
  return out;
}

void Flush::sync_foreign_keys(InstanceState& st) {
  void* obj = st.obj.get();
  for (const auto& rel : st.mapper->relationships) {
    if (rel->kind != RelationKind::many_to_one) continue;
    auto& f = rel->field(obj);
    if (!SessionAccess::changed(f) || !SessionAccess::loaded(f)) continue;
    auto targets = rel->current(obj);
    if (targets.empty()) {
      if (!rel->fk->column.nullable)
        throw FlushError(describe(*st.mapper, obj) + "." + rel->name + " is null, but '" +
                         rel->fk->qualified_name +
                         "' may not be NULL; assign an object or delete this one");
      rel->fk->set(obj, null);
      continue;
    }
    auto* ts = session_.state_of(targets.front().get());
    const Mapper& target = rel->target();
    if (!ts || ts->status == ObjectStatus::pending)
      throw FlushError(describe(*st.mapper, obj) + "." + rel->name + " refers to a " +
                       target.class_name +
                       " that is not inserted yet (a dependency cycle between rows)");
    const ColumnInfo& ref = referenced_column(*rel->fk, target);
    Value v = ref.get(ts->obj.get());
    if (!rel->fk->same_value(obj, v)) rel->fk->set(obj, v);
  }
}

void Flush::push_keys_to_children(InstanceState& st, bool inserted) {
  void* obj = st.obj.get();
  const bool whole = inserted || rekeyed_.contains(&st) || took_over_.contains(&st);
  for (const auto& rel : st.mapper->relationships) {
    if (!fk_in_target(rel->kind)) continue;
    auto& f = rel->field(obj);
    if (!SessionAccess::changed(f)) continue;
    Value v = referenced_column(*rel->fk, *st.mapper).get(obj);
    for (auto& child : session_.items_to_walk(st, *rel, whole))
      if (!rel->fk->same_value(child.get(), v)) rel->fk->set(child.get(), v);
  }
}

std::int64_t Flush::execute(engine::Statement& stmt, const InstanceState& st,
                            dialect::RowContext::Operation op, std::vector<Value>* returned) {
  try {
    if (!returned) return stmt.execute();
    if (stmt.step())
      for (int i = 0; i < stmt.column_count(); ++i) returned->push_back(stmt.get_value(i));
    while (stmt.step()) {
    }
    return stmt.rows_affected();
  } catch (const IntegrityError& e) {
    dialect::RowContext row;
    row.table = st.mapper->table_name();
    row.operation = op;
    const bool deleting = op == dialect::RowContext::Operation::delete_;
    auto values = deleting ? st.snapshot.values() : capture(*st.mapper, st.obj.get());
    for (const auto& c : st.mapper->columns)
      row.values.emplace_back(c->column.name,
                              deleting ? c->from_snapshot(values[c->index]) : values[c->index]);
    const Mapper& m = *st.mapper;
    throw session_.dialect_for(m).explain_integrity_error(e, row, session_.connection(m),
                                                          session_.db_.core_for(m).metadata());
  }
}

const Flush::InsertShape& Flush::insert_shape(InstanceState& st) {
  const Mapper& m = *st.mapper;
  void* obj = st.obj.get();
  for (const auto& c : m.columns) c->apply_default(obj);
  const bool generated = m.autoincrement && m.autoincrement->key_unset(obj);
  // The kind of row: bit 0 the key unset, then one bit per server-default column of an
  // optional member (left out of the INSERT when empty).
  std::uint64_t kind = generated ? 1 : 0;
  int bit = 1;
  for (const auto& c : m.columns) {
    if (!c->column.server_default || !c->optional_member) continue;
    if (bit == 64) return odd_insert_shapes_.emplace_back(make_insert_shape(m, obj, generated));
    if (is_null(c->get(obj))) kind |= std::uint64_t{1} << bit;
    ++bit;
  }
  auto it = insert_shapes_.find({&m, kind});
  if (it == insert_shapes_.end())
    it = insert_shapes_.emplace(std::pair{&m, kind}, make_insert_shape(m, obj, generated)).first;
  return it->second;
}

Flush::InsertShape Flush::make_insert_shape(const Mapper& m, const void* obj,
                                            bool generated) const {
  InsertShape shape;
  shape.generated = generated;
  // Columns left NULL that have a server default are left out, so the default applies, and
  // read back.
  shape.included.assign(m.columns.size(), true);
  shape.returning.assign(m.columns.size(), false);
  for (const auto& c : m.columns) {
    if (shape.generated && c.get() == m.autoincrement) shape.included[c->index] = false;
    if (c->column.server_default && c->optional_member && is_null(c->get(obj))) {
      shape.included[c->index] = false;
      shape.returning[c->index] = true;
      shape.any_server_default = true;
    }
  }
  const dialect::Dialect& d = session_.dialect_for(m);
  // The generated key comes back with RETURNING where the dialect has no last-insert-id.
  shape.key_returned = shape.generated && d.generated_keys_by_returning();
  if (shape.key_returned) shape.returning[m.autoincrement->index] = true;
  shape.use_returning = (shape.any_server_default && d.supports_returning()) || shape.key_returned;
  if (shape.any_server_default && !shape.use_returning)
    std::fill(shape.returning.begin(), shape.returning.end(), false);
  return shape;
}

void Flush::finish_insert(InstanceState& st, const InsertShape& shape,
                          const std::vector<Value>& returned) {
  const Mapper& m = *st.mapper;
  void* obj = st.obj.get();
  if (shape.generated) {
    if (!shape.key_returned) m.autoincrement->set(obj, Value{session_.connection(m).last_insert_id()});
    st.key_assigned_by_db = true;
    session_.keys_assigned_in_txn_ = true;
  }
  std::size_t r = 0;
  for (const auto& c : m.columns)
    if (shape.returning[c->index] && r < returned.size()) c->set(obj, returned[r++]);

  st.status = ObjectStatus::persistent;
  st.inserted_in_txn = true;
  st.key = identity_of(m, obj);
  take_snapshot(m, obj, st.snapshot);
  inserted_.push_back(&st);
  touched_.push_back(&st);
  if (auto* log = session_.model_changes_.get()) log->record(st, ModelOperation::insert);
}

void Flush::emit_insert(InstanceState& st, const InsertShape& shape) {
  const Mapper& m = *st.mapper;
  void* obj = st.obj.get();
  engine::Statement* stmt = nullptr;
  if (insert_stmt_ && insert_stmt_shape_ == &shape) {
    stmt = &statement(insert_stmt_, m, nullptr);
  } else {
    const auto& sq = session_.sql_for(m);
    const engine::SqlText& text =
        !shape.any_server_default ? (shape.generated ? sq.insert_generated : sq.insert_all)
                                  : sq.insert_for(shape.included, shape.returning);
    stmt = &statement(insert_stmt_, m, &text);
    insert_stmt_shape_ = &shape;
  }
  int p = 0;
  for (const auto& c : m.columns)
    if (shape.included[c->index]) c->bind(obj, *stmt, p++);
  std::vector<Value> returned;
  execute(*stmt, st, dialect::RowContext::Operation::insert,
          shape.use_returning ? &returned : nullptr);
  finish_insert(st, shape, returned);
}

namespace {
// A multi-row INSERT holds at most this many rows (in one array per column).
constexpr std::size_t max_batch_rows = 1000;

// Binds parameter p to the array of column c's values in the states' objects, one a row
// (the multi-row INSERT and UPDATE); `values` is scratch space, reused across columns.
void bind_member_array(engine::Statement& stmt, int p, const ColumnInfo& c,
                       std::span<InstanceState* const> states, std::vector<Value>& values) {
  values.clear();
  try {
    for (auto* st : states) values.push_back(c.get(st->obj.get()));
  } catch (const DataError& e) {
    throw_store_error(c, e);  // a value that cannot be stored (see TypedColumn::validate)
  }
  stmt.bind_array(p, values);
}
}  // namespace

void Flush::emit_inserts(const std::vector<InstanceState*>& states) {
  if (states.empty()) return;
  const Mapper& m = *states.front()->mapper;
  const auto* before = handlers(m, Event::before_insert);  // they see the foreign keys set
  // One statement per row (cached) where that costs no round trip (SQLite), or where a row
  // may refer to another of the same flush (its key is needed first).
  if (!session_.dialect_for(m).batches_inserts() || states.size() == 1 || refers_to_itself(m)) {
    for (auto* st : states) {
      sync_foreign_keys(*st);
      if (before) detail::fire(*before, st->obj.get(), session_.connection(*st->mapper));
      emit_insert(*st, insert_shape(*st));
    }
    return;
  }
  std::vector<const InsertShape*> shapes;  // rows alike share one shape (see insert_shape)
  shapes.reserve(states.size());
  for (auto* st : states) {
    sync_foreign_keys(*st);
    if (before) detail::fire(*before, st->obj.get(), session_.connection(*st->mapper));
    shapes.push_back(&insert_shape(*st));
  }
  // Runs of rows with the same columns go together.
  for (std::size_t i = 0; i < states.size();) {
    std::size_t j = i + 1;
    while (j < states.size() && j - i < max_batch_rows &&
           (shapes[j] == shapes[i] || *shapes[j] == *shapes[i]))
      ++j;
    if (j - i == 1) {
      emit_insert(*states[i], *shapes[i]);
    } else {
      emit_insert_batch(std::span(states).subspan(i, j - i), *shapes[i]);
    }
    i = j;
  }
}

IntegrityError Flush::explained_batch_error(const IntegrityError& e, const Mapper& m,
                                           dialect::RowContext::Operation op) {
  // Which row of the batch failed is not known; the server names the constraint.
  dialect::RowContext row;
  row.table = m.table_name();
  row.operation = op;
  return session_.dialect_for(m).explain_integrity_error(e, row, session_.connection(m),
                                                         session_.db_.core_for(m).metadata());
}

void Flush::emit_insert_batch(std::span<InstanceState* const> states, const InsertShape& shape) {
  const Mapper& m = *states.front()->mapper;
  if (std::find(shape.included.begin(), shape.included.end(), true) == shape.included.end()) {
    for (auto* st : states) emit_insert(*st, shape);  // DEFAULT VALUES takes one row: no batch
    return;
  }
  auto stmt = session_.connection(m).prepare_cached(
      session_.sql_for(m).insert_rows_for(shape.included, shape.returning));
  // One array per included column, each holding a value per row.
  std::vector<Value> values;
  values.reserve(states.size());
  int p = 0;
  for (const auto& c : m.columns)
    if (shape.included[c->index]) bind_member_array(*stmt, p++, *c, states, values);

  std::vector<std::vector<Value>> rows;
  try {
    if (!shape.use_returning) {
      stmt->execute();
    } else {
      while (stmt->step()) {
        auto& row = rows.emplace_back();
        for (int i = 0; i < stmt->column_count(); ++i) row.push_back(stmt->get_value(i));
      }
    }
  } catch (const IntegrityError& e) {
    throw explained_batch_error(e, m, dialect::RowContext::Operation::insert);
  }
  if (shape.use_returning && rows.size() != states.size()) {
    throw FlushError("INSERT of " + std::to_string(states.size()) + " rows into '" +
                     m.table_name() + "' returned " + std::to_string(rows.size()) + " rows");
  }
  if (shape.key_returned) {
    // The rows are inserted in the order of the arrays and the key's sequence counts
    // up, so sorted by key the returned rows are in the objects' order.
    std::size_t key_at = 0;
    for (const auto& c : m.columns) {
      if (c.get() == m.autoincrement) break;
      if (shape.returning[c->index]) ++key_at;
    }
    std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
      return std::get<std::int64_t>(a[key_at]) < std::get<std::int64_t>(b[key_at]);
    });
  }
  static const std::vector<Value> none;
  for (std::size_t r = 0; r < states.size(); ++r)
    finish_insert(*states[r], shape, shape.use_returning ? rows[r] : none);
}

Flush::UpdateShape Flush::update_shape(InstanceState& st) const {
  const Mapper& m = *st.mapper;
  const void* obj = st.obj.get();
  UpdateShape shape;
  shape.changed = ColumnSet(m.columns.size());
  for (const auto& c : m.columns) {
    if (c->equal(obj, st.snapshot.cell(c->index))) continue;
    shape.changed.insert(c->index);
    shape.any = true;
    if (c->column.primary_key) shape.key_changed = true;
  }
  return shape;
}

void Flush::emit_updates(const std::vector<InstanceState*>& states) {
  if (states.empty()) return;
  const Mapper& m = *states.front()->mapper;
  const auto* before = handlers(m, Event::before_update);
  std::vector<UpdateShape> shapes;
  shapes.reserve(states.size());
  // The foreign keys of many-to-one relationships: a handler that changes one moves the
  // object in memory too, as a key set by hand before the flush does.
  std::vector<const ColumnInfo*> keys;
  if (before)
    for (const auto& rel : m.relationships)
      if (rel->kind == RelationKind::many_to_one && rel->fk) keys.push_back(rel->fk);
  std::vector<Value> keys_before;
  for (auto* st : states) {
    sync_foreign_keys(*st);
    shapes.push_back(update_shape(*st));
    // Only objects whose columns changed; what the handler changes is written too.
    if (before && shapes.back().any) {
      keys_before.clear();
      for (const auto* k : keys) keys_before.push_back(k->get(st->obj.get()));
      detail::fire(*before, st->obj.get(), session_.connection(m));
      shapes.back() = update_shape(*st);
      std::vector<const ColumnInfo*> moved;
      for (std::size_t i = 0; i < keys.size(); ++i)
        if (!keys[i]->same_value(st->obj.get(), keys_before[i])) moved.push_back(keys[i]);
      if (!moved.empty()) follow_keys_set_by_hand({st}, &moved);
    }
  }
  carrying_ = carried_columns(m);
  emit_update_statements(states, shapes);
  carrying_ = nullptr;
  if (!carried_.empty()) carry_updates(m, std::exchange(carried_, {}));
  if (const auto* after = handlers(m, Event::after_update))
    for (std::size_t i = 0; i < states.size(); ++i)
      if (shapes[i].any) detail::fire(*after, states[i]->obj.get(), session_.connection(m));
}

void Flush::emit_update_statements(const std::vector<InstanceState*>& states,
                                   const std::vector<UpdateShape>& shapes) {
  if (!session_.dialect_for(*states.front()->mapper).batches_updates() || states.size() == 1) {
    for (std::size_t i = 0; i < states.size(); ++i) emit_update(*states[i], shapes[i]);
    return;
  }
  // Rows that changed the same columns go in one statement (in their order among themselves);
  // a row whose key changed goes alone, in its place, as its key is both set and matched.
  // The rows that let go of a unique value come first (collect() put them there), in
  // statements of their own: a row of a later statement may take the value.
  const auto releasing =
      may_release_unique_values(*states.front()->mapper)
          ? static_cast<std::size_t>(
                std::find_if_not(states.begin(), states.end(), releases_a_unique_value) -
                states.begin())
          : 0;
  std::vector<InstanceState*> batch;
  for (const auto& [from, to] : {std::pair{std::size_t{0}, releasing},
                                std::pair{releasing, states.size()}}) {
    std::map<ColumnSet, std::vector<std::size_t>> groups;
    for (std::size_t i = from; i < to; ++i) {
      if (!shapes[i].any) continue;
      if (shapes[i].key_changed) emit_update(*states[i], shapes[i]);
      else groups[shapes[i].changed].push_back(i);
    }
    for (const auto& [changed, rows] : groups) {
      if (rows.size() == 1) {
        emit_update(*states[rows.front()], shapes[rows.front()]);
        continue;
      }
      batch.clear();
      for (std::size_t i : rows) batch.push_back(states[i]);
      emit_update_batch(batch, shapes[rows.front()]);
    }
  }
}

void Flush::emit_update_batch(const std::vector<InstanceState*>& states, const UpdateShape& shape) {
  const Mapper& m = *states.front()->mapper;
  const auto& sq = session_.sql_for(m);
  auto stmt = session_.connection(m).prepare_cached(sq.update_rows_for(shape.changed));
  // One array per changed column, then one per key column, each holding a value per row.
  std::vector<Value> values;
  values.reserve(states.size());
  int p = 0;
  for (const auto& c : m.columns)
    if (shape.changed[c->index]) bind_member_array(*stmt, p++, *c, states, values);
  for (const auto* k : m.primary_key) {
    values.clear();
    for (auto* st : states) values.push_back(k->from_snapshot(st->snapshot[k->index]));
    stmt->bind_array(p++, values);
  }
  std::int64_t rows = 0;
  try {
    rows = stmt->execute();
  } catch (const IntegrityError& e) {
    throw explained_batch_error(e, m, dialect::RowContext::Operation::update);
  }
  if (rows != static_cast<std::int64_t>(states.size()))
    throw StaleDataError("UPDATE of " + std::to_string(states.size()) + " " + m.class_name +
                         " rows matched " + std::to_string(rows) +
                         ": some were deleted or their keys changed elsewhere");
  for (auto* st : states) updated(*st, shape);
}

void Flush::emit_update(InstanceState& st, const UpdateShape& shape) {
  if (!shape.any) return;
  const Mapper& m = *st.mapper;
  void* obj = st.obj.get();
  engine::Statement* stmt = nullptr;
  if (update_stmt_ && update_stmt_mapper_ == &m && update_stmt_changed_ == shape.changed) {
    stmt = &statement(update_stmt_, m, nullptr);
  } else {
    stmt = &statement(update_stmt_, m, &session_.sql_for(m).update_for(shape.changed));
    update_stmt_mapper_ = &m;
    update_stmt_changed_ = shape.changed;
  }
  int p = 0;
  for (const auto& c : m.columns)
    if (shape.changed[c->index]) c->bind(obj, *stmt, p++);
  for (const auto* k : m.primary_key) stmt->bind(p++, k->from_snapshot(st.snapshot[k->index]));
  auto rows = execute(*stmt, st, dialect::RowContext::Operation::update, nullptr);
  if (rows != 1)
    throw StaleDataError("UPDATE of " + describe(m, obj) +
                         " matched no row: it was deleted or its key changed elsewhere");
  updated(st, shape);
}

void Flush::updated(InstanceState& st, const UpdateShape& shape) {
  const Mapper& m = *st.mapper;
  void* obj = st.obj.get();
  for (const auto& c : m.columns) {
    if (!shape.changed[c->index]) continue;
    if (carrying_ && (*carrying_)[c->index])
      carried_.push_back({c.get(), c->from_snapshot(st.snapshot[c->index]), c->get(obj), st.obj});
    session_.states_.keep_for_rollback(st, c->index);
    st.snapshot.take(*c, obj);
  }
  if (shape.key_changed) {
    rekeyed_.insert(&st);  // (a before_update handler may have changed it)
    key_follows_row(st);
  }
  if (auto* log = session_.model_changes_.get()) log->record(st, ModelOperation::update);
}

void Flush::key_follows_row(InstanceState& st) {
  session_.identity_.erase_if_is(&st);
  st.key = identity_in_snapshot(st);
  session_.identity_.put(&st);
}

const std::vector<ForeignKeyOf>& Flush::foreign_keys_carrying(const Mapper& m) {
  DatabaseCore& core = session_.db_.core_for(m);
  auto [it, fresh] = foreign_keys_carrying_.try_emplace(&core);
  // A connection that does not enforce foreign keys (SQLite's switch off) leaves the rows that
  // refer to a changed value as they were: so are the objects.
  if (fresh && (core.engine.options().connect.foreign_keys ||
                core.dialect->set_foreign_keys_sql(false).empty()))
    it->second = core.foreign_keys_carrying_updates();
  return it->second;
}

const ColumnSet* Flush::carried_columns(const Mapper& m) {
  auto [it, fresh] = carried_columns_.try_emplace(&m);
  if (fresh) {
    ColumnSet set(m.columns.size());
    bool any = false;
    for (const auto& fk : foreign_keys_carrying(m)) {
      if (fk.key.referred_table != m.table_name()) continue;
      if (const ColumnInfo* c = m.find_column(fk.key.referred_columns.front())) {
        set.insert(c->index);
        any = true;
      }
    }
    if (any) it->second = std::move(set);
  }
  return it->second ? &*it->second : nullptr;
}

void Flush::carry_updates(const Mapper& m, std::vector<Carried> changes) {
  auto& s = session_;
  const auto& keys = foreign_keys_carrying(m);
  Removals left;  // the old parents' collections (SET NULL), each gone through once
  // A column's changed values: each value rows referred to, the value they refer to now, and
  // the object of the row that holds it, when the session holds it.
  struct Change {
    Value before, now;
    std::shared_ptr<void> holder;
  };
  struct Step {
    std::string table, column;
    std::vector<Change> changes;
  };
  std::vector<Step> work;
  for (auto& ch : changes) {
    auto at = std::find_if(work.begin(), work.end(),
                           [&ch](const Step& w) { return w.column == ch.column->column.name; });
    if (at == work.end())
      at = work.insert(work.end(), Step{m.table_name(), ch.column->column.name, {}});
    at->changes.push_back({std::move(ch.before), std::move(ch.now), std::move(ch.parent)});
  }
  std::vector<const Mapper*> mappers;
  s.states_.for_each_mapper([&mappers](const Mapper& o) { mappers.push_back(&o); });
  // Each table's column is carried into once (a cycle of foreign keys would go round for ever).
  std::set<std::pair<std::string, std::string>> done;
  while (!work.empty()) {
    Step step = std::move(work.back());
    work.pop_back();
    if (!done.emplace(step.table, step.column).second) continue;
    std::map<Value, const Change*, ValueLess> by_before;
    for (const auto& ch : step.changes)
      if (!is_null(ch.before)) by_before.emplace(ch.before, &ch);  // NULL referred to nothing
    for (const auto& fk : keys) {
      if (fk.key.referred_table != step.table || fk.key.referred_columns.front() != step.column)
        continue;
      const std::string& column = fk.key.columns.front();
      const bool set_null = fk.key.on_update == schema::ReferentialAction::set_null;
      Step next{fk.table, column, {}};
      std::map<Value, std::shared_ptr<void>, ValueLess> holders;
      for (const Mapper* cm : mappers) {
        if (cm->table_name() != fk.table) continue;
        const ColumnInfo* cp = cm->find_column(column);
        if (!cp) continue;
        const ColumnInfo& c = *cp;
        s.states_.for_each_state_of(*cm, [&](InstanceState& st) {
          if (st.status != ObjectStatus::persistent) return;
          auto found = by_before.find(c.from_snapshot(st.snapshot[c.index]));
          if (found == by_before.end()) return;
          const Change& ch = *found->second;
          void* obj = st.obj.get();
          // The member as the user set it since the last flush, written by this flush next.
          std::optional<Value> by_hand;
          if (!c.equal(obj, st.snapshot.cell(c.index))) by_hand = c.get(obj);
          c.set(obj, set_null ? Value(null) : ch.now);
          s.states_.keep_for_rollback(st, c.index);
          st.snapshot.take(c, obj);
          if (c.column.primary_key) key_follows_row(st);
          if (by_hand) {
            c.set(obj, *by_hand);
          } else if (set_null) {
            // The row has no parent now: neither has the object, unless it was given one
            // (then the flush writes that one's key).
            bool given = false;
            for (const auto& rel : cm->relationships) {
              if (rel->kind != RelationKind::many_to_one || rel->fk != &c) continue;
              auto& f = rel->field(obj);
              if (SessionAccess::changed(f)) given = true;
              else if (SessionAccess::loaded(f)) rel->set_target(obj, nullptr, false);
            }
            auto* ps = ch.holder && !given ? s.state_of(ch.holder.get()) : nullptr;
            if (ps)
              for (const auto& rel : ps->mapper->relationships)
                if (fk_in_target(rel->kind) && rel->fk == &c) left.add(*rel, ch.holder, obj);
          }
          holders[found->first] = st.obj;
        });
      }
      for (const auto& [before, ch] : by_before) {
        auto held = holders.find(before);
        next.changes.push_back({before, set_null ? Value(null) : ch->now,
                                held == holders.end() ? nullptr : held->second});
      }
      work.push_back(std::move(next));
    }
  }
  left.apply();
}

void Flush::emit_delete(InstanceState& st) {
  const Mapper& m = *st.mapper;
  const auto& sq = session_.sql_for(m);
  auto stmt = session_.connection(m).prepare_cached(sq.delete_by_key);
  int p = 0;
  for (const auto* k : m.primary_key) stmt->bind(p++, k->from_snapshot(st.snapshot[k->index]));
  auto rows = execute(*stmt, st, dialect::RowContext::Operation::delete_, nullptr);
  if (rows != 1)
    throw StaleDataError("DELETE of " + describe(m, st.obj.get()) +
                         " matched no row: it was already deleted elsewhere");
  st.status = ObjectStatus::deleted;
  st.marked_for_delete = false;
  session_.identity_.erase_if_is(&st);
  if (auto* log = session_.model_changes_.get()) log->record(st, ModelOperation::delete_);
}

void Flush::finalize() {
  auto& s = session_;
  if (inserted_.size() > 1) s.identity_.reserve(s.identity_.size() + inserted_.size());
  for (auto* st : inserted_)
    if (st->status == ObjectStatus::persistent && st->inserted_in_txn)
      s.identity_.put(st);
  follow_keys_of_new_rows();  // once the rows inserted are in the identity map
  for (auto* st : touched_) {
    if (!st->obj) continue;  // erased meanwhile (see cascade())
    for (const auto& rel : st->mapper->relationships)
      SessionAccess::changed(rel->field(st->obj.get())) = false;
  }
  s.forget_relation_changes();
  s.links_.clear();
  s.link_index_.clear();
  s.orphans_.clear();
}

}  // namespace strata::detail
