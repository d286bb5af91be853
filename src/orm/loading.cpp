// Reading through the session: rows into identity-mapped objects, get(), queries, count and
// exists, streaming, lazy loads of relationships, refresh, and raw SQL. (Bulk UPDATE and
// DELETE: bulk.cpp.)
#include <algorithm>
#include <optional>
#include <unordered_set>

#include "database_core.hpp"
#include "eager.hpp"
#include "session_internal.hpp"
#include "strata/error.hpp"
#include "strata/orm/result.hpp"

namespace strata::detail {

std::string encode_key(const std::vector<Value>& parts) {
  std::string out;
  for (const auto& v : parts) {
    out += to_display(v);
    out += '\x1f';
  }
  return out;
}

Value identity_of(const Mapper& m, const void* obj) {
  if (m.primary_key.size() == 1) return m.primary_key.front()->get(obj);
  std::vector<Value> parts;
  for (const auto* k : m.primary_key) parts.push_back(k->get(obj));
  return encode_key(parts);
}

Value identity_in_snapshot(const InstanceState& st) {
  const Mapper& m = *st.mapper;
  if (m.primary_key.size() == 1) {
    const auto* k = m.primary_key.front();
    return k->from_snapshot(st.snapshot[k->index]);
  }
  std::vector<Value> parts;
  for (const auto* k : m.primary_key) parts.push_back(k->from_snapshot(st.snapshot[k->index]));
  return encode_key(parts);
}

std::vector<Value> capture(const Mapper& m, const void* obj) {
  std::vector<Value> out;
  out.reserve(m.columns.size());
  for (const auto& c : m.columns) out.push_back(c->get(obj));
  return out;
}

void take_snapshot(const Mapper& m, const void* obj, const Snapshot& out) {
  for (const auto& c : m.columns) out.take(*c, obj);
}

std::string describe(const Mapper& m, const void* obj) {
  std::string out = "<" + m.class_name;
  for (const auto* k : m.primary_key) out += " " + k->column.name + "=" + to_display(k->get(obj));
  return out + ">";
}

const ColumnInfo& referenced_column(const ColumnInfo& fk, const Mapper& referred) {
  const ColumnInfo* c = nullptr;
  if (fk.references && fk.references->target_mapper)
    c = referred.column_at(fk.references->target_offset);
  else if (fk.references)
    c = referred.find_column(fk.references->column);
  if (!c && referred.primary_key.size() == 1) c = referred.primary_key.front();
  if (!c)
    throw InvalidRequestError("cannot tell which column of '" + referred.table_name() + "' '" +
                              fk.qualified_name + "' refers to");
  return *c;
}

std::optional<sql::RowLock> lock_taken(const QuerySpec& q) {
  if (q.lock) return q.lock;
  // the parts of q that can hold a subquery, in the order row_lock_in(Select) reads them
  const sql::RowLock* lock = nullptr;
  for (const auto& j : q.joins)
    if ((lock = sql::row_lock_in(j.on))) return *lock;
  if ((lock = sql::row_lock_in(q.where))) return *lock;
  for (const auto& g : q.group_by)
    if ((lock = sql::row_lock_in(g))) return *lock;
  if ((lock = sql::row_lock_in(q.having))) return *lock;
  for (const auto& o : q.order_by)
    if ((lock = sql::row_lock_in(o.expr))) return *lock;
  return std::nullopt;
}

std::shared_ptr<void> Loader::load_row(SessionCore& session, const Mapper& m,
                                       const engine::Statement& s, int first_column,
                                       Populated* populate) {
  if (m.primary_key.size() == 1) {
    const int k = first_column + static_cast<int>(m.primary_key.front()->index);
    if (const ValueRef r = s.get_ref(k); r.kind() == ValueRef::Kind::integer) {  // one probe
      const std::int64_t key = r.as_integer();
      InstanceState** slot = session.identity_.slot_for(&m, key);
      if (InstanceState* st = *slot) {  // in-memory state wins, unless the query populates
        // (overwrite() may load, and so grow the identity map: slot is not read after it)
        if (populate && populate->insert(st).second) overwrite(session, *st, s, first_column);
        return st->obj;
      }
      return load_new_row(session, m, s, IdentityKey(key), first_column, slot, r);
    }
  }
  // The key in the form identity_of() gives an object's (row_value: PostgreSQL spells a
  // timestamp key otherwise than strata writes it).
  Value key;
  if (m.primary_key.size() == 1) {
    const auto* k = m.primary_key.front();
    key = k->row_value(s, first_column + static_cast<int>(k->index));
  } else {
    std::vector<Value> parts;
    for (const auto* k : m.primary_key)
      parts.push_back(k->row_value(s, first_column + static_cast<int>(k->index)));
    key = encode_key(parts);
  }
  if (auto* st = session.identity_.find(&m, key)) {
    if (populate && populate->insert(st).second) overwrite(session, *st, s, first_column);
    return st->obj;
  }
  return load_new_row(session, m, s, IdentityKey(std::move(key)), first_column);
}

void Loader::overwrite(SessionCore& session, InstanceState& st, const engine::Statement& s,
                       int first_column) {
  const Mapper& m = *st.mapper;
  // New objects its relationships took in (user->posts.append(post)) stay in the session, as
  // SQLAlchemy's save-update cascade puts them there when they are appended: expired with the
  // relationships below, they would be lost without a word. First, so that an object this
  // refuses (another session's) leaves the object as it was.
  if (!st.marked_for_delete) session.cascade_add(st);  // a deleted one brings nothing in
  void* raw = st.obj.get();
  for (const auto& c : m.columns) c->load(raw, s, first_column + static_cast<int>(c->index));
  // What the transaction may have changed, rollback() must be able to put back.
  for (const auto& c : m.columns) session.states_.keep_for_rollback(st, c->index);
  take_snapshot(m, raw, st.snapshot);
  for (const auto& rel : m.relationships) rel->expire(raw);
}

std::shared_ptr<void> Loader::load_new_row(SessionCore& session, const Mapper& m,
                                           const engine::Statement& s, IdentityKey key,
                                           int first_column, InstanceState** slot,
                                           ValueRef key_ref) {
  auto obj = m.create(session.states_.object_blocks(m));
  auto& st = session.attach(m, obj, ObjectStatus::persistent);
  st.loaded_after_write = session.wrote_in_txn_;
  // The key column, when the caller has read it, is not read again: on PostgreSQL that would
  // parse the number a second time.
  const ColumnInfo* key_read =
      key_ref.kind() == ValueRef::Kind::none ? nullptr : m.primary_key.front();
  try {
    for (const auto& c : m.columns) {
      const int i = first_column + static_cast<int>(c->index);
      if (c.get() == key_read) c->load_ref_with_snapshot(obj.get(), key_ref, s, i, st.snapshot);
      else c->load_with_snapshot(obj.get(), s, i, st.snapshot);
    }
  } catch (...) {
    session.states_.erase(st);  // a row that does not load leaves nothing in the session
    throw;
  }
  st.key = std::move(key);
  if (slot) session.identity_.fill(slot, &st);  // nothing since slot_for() changed the map
  else session.identity_.put(&st);
  return obj;
}

sql::Select Loader::select_for(SessionCore& session, const Mapper& m, const QuerySpec& q) {
  sql::Select s;
  s.columns = session.sql_for(m).column_exprs;
  s.from = m.table_name();
  s.joins = q.joins;
  s.distinct = q.distinct;
  s.where = q.where;
  s.group_by = q.group_by;
  s.having = q.having;
  s.order_by = q.order_by;
  s.limit = q.limit;
  s.offset = q.offset;
  s.lock = q.lock;
  return s;
}

std::shared_ptr<void> SessionCore::get(const Mapper& m, const Value& key) {
  check_usable();
  m.configure();
  if (m.primary_key.size() != 1)
    throw ArgumentError("get(): " + m.class_name +
                        " has a composite primary key; use query().filter(...)");
  auto lookup = [&]() -> InstanceState* {
    return identity_.find(&m, key);
  };
  if (auto* st = lookup()) return st->marked_for_delete ? nullptr : st->obj;
  // Autoflush, narrowed to what can change a SELECT by primary key: a flush that inserts or
  // deletes rows (new objects, deletions, relationship changes). Changed columns of objects
  // the session holds cannot, unless one of them changed its key to this one; then the row
  // is missing from the database, and the full autoflush below finds it. Checking every
  // object for changes on each get() made n gets cost O(n^2).
  if (rows_to_add_or_remove_) {
    do_autoflush();
    if (auto* st = lookup()) return st->marked_for_delete ? nullptr : st->obj;
  }
  auto select = [&]() -> std::shared_ptr<void> {
    if (EagerLoader::eager_by_default(m)) {
      // The mapping loads some relationships eagerly: a query by key, with its strategies.
      // Its collections read other tables, where a foreign key changed by hand (not noted
      // as a row to add or remove) moves rows: the whole autoflush first, as all()'s.
      do_autoflush();
      QuerySpec q;
      const auto* k = m.primary_key.front();
      q.where = sql::binary(sql::BinaryOp::eq, sql::column(m.table_name(), k->column.name),
                            sql::param(key));
      auto rows = EagerLoader(*this, m, q).run();
      return rows.empty() ? nullptr : rows.front();
    }
    auto stmt = connection(m).prepare_cached(sql_for(m).get_by_key);
    stmt->bind(0, key);
    if (!stmt->step()) return nullptr;
    // The row's key, as the database has it: the identity map was just searched for `key`,
    // which may be another (5 for '5', another case where a collation ignores it).
    const auto* k = m.primary_key.front();
    Value row_key = k->row_value(*stmt, static_cast<int>(k->index));
    // One row at most (the key is the primary key): the statement goes back to the cache,
    // which resets it, without stepping to its end.
    return row_key == key ? Loader::load_new_row(*this, m, *stmt, IdentityKey(std::move(row_key)))
                          : Loader::load_row(*this, m, *stmt);
  };
  if (auto found = select()) return found;
  // Not found: an object of the session may have taken this key, or changed a key that an
  // ON UPDATE action carries into this row's. A flush for that makes the row one the
  // session holds, or one the SELECT finds now.
  if (!autoflush || identity_.empty() || !autoflush_before(db_.core_for(m), {m.table_name()}))
    return nullptr;
  if (auto* st = lookup()) return st->marked_for_delete ? nullptr : st->obj;
  return select();
}

std::shared_ptr<void> SessionCore::get_fresh(const Mapper& m, const Value& key,
                                             std::optional<sql::RowLock> lock) {
  check_usable();
  m.configure();
  if (m.primary_key.size() != 1)
    throw ArgumentError("get(): " + m.class_name + " has a composite primary key; use query()" +
                        ".filter(...)." + (lock ? "with_for_update()" : "populate_existing()"));
  QuerySpec q;
  const auto* k = m.primary_key.front();
  q.where = sql::binary(sql::BinaryOp::eq, sql::column(m.table_name(), k->column.name),
                        sql::param(key));
  q.lock = std::move(lock);
  q.populate_existing = true;
  auto rows = all(m, q);
  if (rows.empty()) return nullptr;
  const auto* st = state_of(rows.front().get());
  return st && st->marked_for_delete ? nullptr : rows.front();  // as get() (autoflush off)
}

std::vector<std::shared_ptr<void>> SessionCore::all(const Mapper& m, const QuerySpec& q) {
  std::vector<std::shared_ptr<void>> out;
  all(
      m, q,
      [](void* o, std::shared_ptr<void>&& obj) {
        static_cast<std::vector<std::shared_ptr<void>>*>(o)->push_back(std::move(obj));
      },
      &out);
  return out;
}

void SessionCore::all(const Mapper& m, const QuerySpec& q, Sink sink, void* out) {
  m.configure();
  DatabaseCore& core = db_.core_for(m);
  // A query that locks rows begins the transaction (before its autoflush writes anything) as
  // one that does: on SQLite, with the database's write lock.
  if (auto lock = lock_taken(q)) connection_for(core, lock);
  if (EagerLoader::applies(m, q)) {
    do_autoflush();  // whole: the loads of related objects read further tables
    for (auto& obj : EagerLoader(*this, m, q).run()) sink(out, std::move(obj));
    return;
  }
  const auto select = Loader::select_for(*this, m, q);
  autoflush_before(core, select);
  auto compiled = sql::compile(select, dialect_for(m));
  auto stmt = connection(m).prepare_cached(compiled.sql);
  stmt->bind_all(compiled.params);
  Populated populated;
  Populated* populate = q.populate_existing ? &populated : nullptr;
  while (stmt->step()) sink(out, Loader::load_row(*this, m, *stmt, 0, populate));
}

namespace {
std::int64_t scalar(engine::Connection& c, const sql::Compiled& compiled) {
  auto stmt = c.prepare_cached(compiled.sql);
  stmt->bind_all(compiled.params);
  if (!stmt->step()) return 0;
  auto v = stmt->get_int64(0);
  while (stmt->step()) {
  }
  return v;
}
}  // namespace

std::int64_t SessionCore::count(const Mapper& m, const QuerySpec& q) {
  m.configure();
  sql::Select s;
  s.columns = {sql::function("count", {sql::raw("*")})};
  if (q.limit || q.offset || q.distinct || !q.group_by.empty() || q.having) {
    // Count what all() returns: its rows (DISTINCT over whole objects, one per group).
    auto inner = std::make_shared<sql::Select>(Loader::select_for(*this, m, q));
    inner->lock.reset();  // counting locks nothing
    if (!q.distinct && q.group_by.empty() && !q.having) {
      inner->columns.clear();
      for (const auto* k : m.primary_key)
        inner->columns.push_back(sql::column(m.table_name(), k->column.name));
    }
    inner->order_by.clear();
    s.from_subquery = std::move(inner);
    s.from_alias = "anon_1";
  } else {
    s.from = m.table_name();
    s.joins = q.joins;
    s.where = q.where;
  }
  // No row of the query's own is locked, but the transaction begins as all() would begin it
  // (on SQLite with the write lock): paginate() counts first.
  if (auto lock = lock_taken(q)) connection_for(db_.core_for(m), lock);
  autoflush_before(db_.core_for(m), s);
  return scalar(connection(m), sql::compile(s, dialect_for(m)));
}

bool SessionCore::exists(const Mapper& m, const QuerySpec& q) {
  m.configure();
  std::shared_ptr<sql::Select> inner;
  if (q.distinct && (q.limit || q.offset)) {
    // Whole objects told apart, as all() and count() see them: with an offset, rows that
    // repeat one object through a join count once. (Without a limit or an offset DISTINCT
    // changes no answer: the plain EXISTS below stops at the first row.)
    // (Inside a derived table: SQLite 3.40 drops the DISTINCT of an EXISTS's own SELECT,
    // OFFSET or not.)
    auto objects = std::make_shared<sql::Select>(Loader::select_for(*this, m, q));
    objects->lock.reset();
    objects->order_by.clear();
    inner = std::make_shared<sql::Select>();
    inner->columns = {sql::raw("1")};
    inner->from_subquery = std::move(objects);
    inner->from_alias = "anon_1";
  } else {
    inner = std::make_shared<sql::Select>();
    inner->columns = {sql::raw("1")};
    inner->from = m.table_name();
    inner->joins = q.joins;
    inner->where = q.where;
    inner->group_by = q.group_by;
    inner->having = q.having;
    inner->limit = q.limit;  // users().offset(5).exists() asks about the rows past the fifth
    inner->offset = q.offset;
  }
  sql::Select s;
  s.columns = {sql::unary(sql::UnaryOp::exists, sql::subquery(std::move(inner)))};
  if (auto lock = lock_taken(q)) connection_for(db_.core_for(m), lock);  // as count()
  autoflush_before(db_.core_for(m), s);
  return scalar(connection(m), sql::compile(s, dialect_for(m))) != 0;
}

struct Cursor::Impl {
  SessionCore* session = nullptr;
  engine::CachedStatement stmt;
  const Mapper* mapper = nullptr;
  ~Impl() {
    stmt = {};  // give the statement back before the connection can go
    session->cursor_closed();
  }
};

Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;
Cursor::~Cursor() = default;

bool Cursor::next(void* obj) {
  if (!impl_) return false;
  if (!impl_->stmt->step()) {
    impl_.reset();  // gives the statement back
    return false;
  }
  for (const auto& c : impl_->mapper->columns)
    c->load(obj, *impl_->stmt, static_cast<int>(c->index));
  for (const auto& rel : impl_->mapper->relationships) rel->expire(obj);
  return true;
}

Cursor SessionCore::stream(const Mapper& m, const QuerySpec& q) {
  if (!q.load.empty())
    throw ArgumentError("stream() yields plain values whose relationships cannot load; loader "
                        "options (joinedload, selectinload, lazyload, raiseload) do not apply "
                        "to it: use all() or paginate()");
  m.configure();
  const auto select = Loader::select_for(*this, m, q);
  if (const auto* lock = sql::row_lock_in(select))  // as in all()
    connection_for(db_.core_for(m), *lock);
  autoflush_before(db_.core_for(m), select);
  auto compiled = sql::compile(select, dialect_for(m));
  Cursor c;
  auto stmt = connection(m).prepare_cached(compiled.sql);
  c.impl_ = std::make_unique<Cursor::Impl>();
  c.impl_->session = this;
  ++open_cursors_;
  c.impl_->stmt = std::move(stmt);
  c.impl_->stmt->bind_all(compiled.params);
  c.impl_->mapper = &m;
  return c;
}

Result SessionCore::execute(std::string_view text, const std::vector<Value>& params,
                            std::string_view bind) {
  do_autoflush();
  auto stmt = connection(db_.for_bind(bind)).prepare_cached(text);
  wrote_in_txn_ = true;  // the text may write
  stmt->bind_all(params);
  Result r;
  for (int i = 0; i < stmt->column_count(); ++i) r.columns.emplace_back(stmt->column_name(i));
  auto names = std::make_shared<const std::vector<std::string>>(r.columns);
  while (stmt->step()) {
    std::vector<Value> values;
    values.reserve(r.columns.size());
    for (int i = 0; i < stmt->column_count(); ++i) values.push_back(stmt->get_value(i));
    r.rows.emplace_back(names, std::move(values));
  }
  r.rows_affected = r.columns.empty() ? stmt->rows_affected() : 0;
  return r;
}

namespace {
// Relationship fields with lazy='raise' (or raiseload()) refuse to load.
void check_loadable(const InstanceState& owner, const RelationshipInfo& rel) {
  if (!SessionAccess::raise(rel.field(owner.obj.get()))) return;
  throw InvalidRequestError("relationship '" + rel.owner->class_name + "." + rel.name +
                            "' is not loaded and is lazy='raise' (the mapping's .lazy(Loading::"
                            "raise) or the query's raiseload()): load it with joinedload() or "
                            "selectinload(), or assign it");
}

// What a many-to-one's foreign key refers to (none when it is NULL): the value, the column
// of the target it names, and whether that column is the target's whole primary key.
struct Referred {
  Value value;
  const Mapper& target;
  const ColumnInfo& column;
  bool by_key;
};
std::optional<Referred> referred_by(const InstanceState& owner, const RelationshipInfo& rel) {
  Value v = rel.fk->get(owner.obj.get());
  if (is_null(v)) return std::nullopt;
  const Mapper& target = rel.target();
  target.configure();
  const ColumnInfo& ref = referenced_column(*rel.fk, target);
  const bool by_key = target.primary_key.size() == 1 && target.primary_key.front() == &ref;
  return Referred{std::move(v), target, ref, by_key};
}
}  // namespace

std::shared_ptr<void> SessionCore::load_target(InstanceState& owner, const RelationshipInfo& rel) {
  check_loadable(owner, rel);
  auto r = referred_by(owner, rel);
  if (!r) return nullptr;
  if (r->by_key) return get(r->target, r->value);
  QuerySpec q;
  q.where = sql::binary(sql::BinaryOp::eq, sql::column(r->target.table_name(), r->column.column.name),
                        sql::param(std::move(r->value)));
  q.limit = 1;
  auto rows = all(r->target, q);
  return rows.empty() ? nullptr : rows.front();
}

std::shared_ptr<void> SessionCore::held_target(InstanceState& owner, const RelationshipInfo& rel) {
  auto r = referred_by(owner, rel);
  if (!r || !r->by_key) return nullptr;
  auto* st = identity_.find(&r->target, r->value);
  return st ? st->obj : nullptr;
}

std::vector<std::shared_ptr<void>> SessionCore::load_items(InstanceState& owner,
                                                           const RelationshipInfo& rel) {
  check_loadable(owner, rel);
  if (owner.status == ObjectStatus::pending) return {};
  const Mapper& target = rel.target();
  target.configure();
  const bool through = rel.kind == RelationKind::many_to_many;
  const ColumnInfo& ref = through ? *rel.local_ref : referenced_column(*rel.fk, *owner.mapper);
  // An owner the flush deletes is deleted by its key as the database has it, and its children
  // are the rows that refer to that key, whatever its key in memory (SQLAlchemy's unit of work
  // loads them "against committed" too): its key changed by hand may be another row's.
  Value v = owner.marked_for_delete ? ref.from_snapshot(owner.snapshot[ref.index])
                                    : ref.get(owner.obj.get());
  // Autoflush, narrowed (as in get()) to what can change the rows WHERE fk = v returns: rows
  // added or removed and relationships changed (rows_to_add_or_remove_), a changed key of the
  // owner, or a foreign key changed by hand in an object of the target. Other changed columns
  // cannot, and are flushed by the next query or commit; comparing every object of the
  // session with its snapshot before each lazy load made n lazy loads cost O(n^2). A
  // many-to-many load reads the association table too: it autoflushes whole.
  // Without autoflush (set_autoflush(false), or within a flush) there is nothing to look for.
  if (autoflush && !flushing_ &&
      (through || rows_to_add_or_remove_ ||
       !ref.equal(owner.obj.get(), owner.snapshot.cell(ref.index)) ||
       states_.any_persistent_changed(target, *rel.fk)))
    do_autoflush();
  else
    check_usable();
  // The statement is compiled once per relationship (MapperSql::select_by / select_through),
  // not per load.
  const auto& sq = sql_for(target);
  auto stmt =
      connection(target).prepare_cached(through ? sq.select_through(rel) : sq.select_by(*rel.fk));
  stmt->bind(0, v);
  std::vector<std::shared_ptr<void>> items;
  while (stmt->step()) items.push_back(Loader::load_row(*this, target, *stmt));
  stmt = {};
  if (through) return items;  // the other side's collections hold more than this owner
  if (rel.back)
    for (auto& item : items)
      if (rel.back->current(item.get()).empty()) rel.back->set_target(item.get(), owner.obj, false);
  return items;
}

void check_one(const RelationshipInfo& rel, const void* owner, std::size_t rows) {
  if (rows > 1)
    throw MultipleResultsFound(rel.owner->class_name + "." + rel.name + " holds one " +
                               rel.target().class_name + " (HasOne), but " +
                               std::to_string(rows) + " rows of '" + rel.target().table_name() +
                               "' refer to " + describe(*rel.owner, owner) + "; make '" +
                               rel.fk->qualified_name + "' unique, or map it as HasMany");
}

std::shared_ptr<void> SessionCore::load_one(InstanceState& owner, const RelationshipInfo& rel) {
  auto items = load_items(owner, rel);
  check_one(rel, owner.obj.get(), items.size());
  return items.empty() ? nullptr : items.front();
}

std::shared_ptr<void> SessionCore::merge(const Mapper& m, const void* obj) {
  check_usable();
  m.configure();
  if (auto* st = state_of(obj)) {
    if (st->mapper != &m)
      throw ArgumentError("merge(): the object is already in the session as another model");
    return st->obj;  // the session's own object
  }
  if (m.autoincrement && m.autoincrement->key_unset(obj)) return nullptr;  // a new row
  if (m.primary_key.size() != 1)
    throw ArgumentError("merge(): " + m.class_name +
                        " has a composite primary key; query the row and set its members");
  const Value key = identity_of(m, obj);
  if (auto* st = identity_.find(&m, key); st && (st->marked_for_delete ||
                                                 st->status == ObjectStatus::deleted))
    throw InvalidRequestError("merge(): " + describe(m, obj) +
                              " is deleted in this session; rollback() or commit first");
  auto target = get(m, key);
  if (!target) return nullptr;
  void* raw = target.get();
  // Only what differs is set: the flush's UPDATE then names only those columns.
  for (const auto& c : m.columns) {
    Value v = c->get(obj);
    if (!c->same_value(raw, v)) c->set(raw, v);
  }
  return target;
}

void SessionCore::add_merged_copy(const Mapper& m, std::shared_ptr<void> copy) {
  // The copy's relationships held what the original held: they load from the database
  // instead, by the foreign keys the copy has.
  for (const auto& rel : m.relationships) rel->expire(copy.get());
  add(m, std::move(copy), /*fresh=*/true);
}

void SessionCore::refresh(const Mapper& m, const void* obj) {
  check_usable();
  auto* st = state_of(obj);
  if (!st || st->status != ObjectStatus::persistent)
    throw InvalidRequestError("refresh(): this " + m.class_name + " is not persistent in this session");
  auto stmt = connection(m).prepare_cached(sql_for(m).get_by_key);
  int p = 0;
  for (const auto* k : m.primary_key) stmt->bind(p++, k->from_snapshot(st->snapshot[k->index]));
  if (!stmt->step())
    throw InvalidRequestError("refresh(): " + describe(m, obj) + " no longer exists in the database");
  // The one row by key is read; the statement goes back to the cache, which resets it.
  Loader::overwrite(*this, *st, *stmt);
}

}  // namespace strata::detail
