// Database (the app's `db` object) and its shared core: registration of models and tables,
// create_all / drop_all, flush order, and per-mapper SQL compiled once.
#include "strata/orm/database.hpp"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "database_core.hpp"

namespace strata {
namespace detail {

// The sessions Database::session() hands out, one per thread. A thread's session ends with
// remove_session() on that thread, with the thread (ThreadExit), or with the database,
// whichever comes first; the mutex is held while a session closes on the latter two paths,
// so that the database does not go while a thread's end closes its session. It is recursive
// because closing fires after_rollback handlers, which may call db.session() again.
struct ThreadSessions {
  std::recursive_mutex mutex;
  std::unordered_map<std::thread::id, std::unique_ptr<Session>> by_thread;
  bool closed = false;  // the database is gone
};

namespace {

// Set when the thread's ThreadExit runs (and stays set: a bool outlives the thread's other
// thread_locals), so that db.session() refuses to open a session the thread's end would not
// close: from an after_rollback handler of a session closing there, or from the destructor
// of another thread_local.
thread_local bool thread_ending = false;

// Closes, when a thread ends, its sessions of the databases still alive.
struct ThreadExit {
  std::vector<std::weak_ptr<ThreadSessions>> used;
  ThreadExit() = default;
  ThreadExit(const ThreadExit&) = delete;
  ThreadExit& operator=(const ThreadExit&) = delete;
  ~ThreadExit() {
    thread_ending = true;
    for (auto& w : used) {
      auto sessions = w.lock();
      if (!sessions) continue;
      std::lock_guard lock(sessions->mutex);
      if (sessions->closed) continue;
      auto it = sessions->by_thread.find(std::this_thread::get_id());
      if (it == sessions->by_thread.end()) continue;
      auto mine = std::move(it->second);
      sessions->by_thread.erase(it);
      mine.reset();  // ~Session closes it and never throws
    }
  }
  void remember(const std::shared_ptr<ThreadSessions>& sessions) {
    std::erase_if(used, [](const auto& w) { return w.expired(); });
    for (const auto& w : used)
      if (w.lock() == sessions) return;
    used.push_back(sessions);
  }
};

thread_local ThreadExit thread_exit;

}  // namespace

DatabaseCore::DatabaseCore(engine::Url u, std::shared_ptr<dialect::Dialect> d,
                           engine::EngineOptions eo, schema::NamingConvention naming,
                           std::string name, bool track_modifications)
    : url(u), dialect(d), engine(std::move(u), std::move(d), std::move(eo)),
      bind_name(std::move(name)), events(track_modifications), metadata_(std::move(naming)) {}

DatabaseCore& DatabaseCore::for_bind(std::string_view name) {
  if (name == bind_name) return *this;
  if (name.empty() && parent) return *parent;
  if (parent) return parent->for_bind(name);
  auto it = binds.find(name);
  if (it != binds.end()) return *it->second;
  std::string known = "the default database";
  for (const auto& [n, core] : binds) known += ", '" + n + "'";
  throw ArgumentError("no database bind '" + std::string(name) +
                      "' is configured (DatabaseOptions::binds); this database has " + known);
}

bool DatabaseCore::add_tables_updating(std::vector<std::string>& tables) {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < tables.size(); ++i) {  // tables grows as it goes
    const schema::Table* t = metadata_.find(tables[i]);
    if (!t) return false;
    for (const auto& fk : t->foreign_keys)
      if (fk.on_update != schema::ReferentialAction::no_action &&
          fk.on_update != schema::ReferentialAction::restrict &&
          std::find(tables.begin(), tables.end(), fk.referred_table) == tables.end())
        tables.push_back(fk.referred_table);
  }
  return true;
}

std::vector<ForeignKeyOf> DatabaseCore::foreign_keys_carrying_updates() {
  std::lock_guard lock(mutex_);
  std::vector<ForeignKeyOf> out;
  for (const auto& t : metadata_.tables())
    for (const auto& fk : t.foreign_keys)
      if (fk.columns.size() == 1 && (fk.on_update == schema::ReferentialAction::cascade ||
                                     fk.on_update == schema::ReferentialAction::set_null))
        out.push_back({t.name, fk});
  return out;
}

DatabaseCore& DatabaseCore::core_for_table(std::string_view name) {
  if (binds.empty()) return *this;
  {
    std::lock_guard lock(mutex_);
    if (metadata_.find(name)) return *this;
  }
  for (auto& [n, core] : binds) {
    std::lock_guard lock(core->mutex_);
    if (core->metadata_.find(name)) return *core;
  }
  return *this;
}

void DatabaseCore::ensure_registered(const Mapper& m) {
  if (m.bind != bind_name) return for_bind(m.bind).ensure_registered(m);
  std::lock_guard lock(mutex_);
  for (auto* known : mappers_)
    if (known == &m) return;
  metadata_.add(m.table());
  // Association tables of many-to-many relationships come with the models that use them
  // (adding the same table again, from the other side, is a no-op).
  for (const auto& rel : m.relationships)
    if (rel->kind == RelationKind::many_to_many) metadata_.add(rel->secondary_table);
  mappers_.push_back(&m);
  recompute_ranks();
}

const schema::Table& DatabaseCore::add_table(schema::Table t) {
  std::lock_guard lock(mutex_);
  const auto& added = metadata_.add(std::move(t));
  recompute_ranks();
  return added;
}

void DatabaseCore::recompute_ranks() {
  ranks_.clear();
  int i = 0;
  for (const auto* t : metadata_.sorted_tables()) ranks_[t->name] = i++;
}

int DatabaseCore::rank_of(const Mapper& m) {
  if (m.bind != bind_name) return for_bind(m.bind).rank_of(m);
  ensure_registered(m);
  std::lock_guard lock(mutex_);
  return ranks_.at(m.table_name());
}

sql::ExprPtr key_condition(const Mapper& m) {
  sql::ExprPtr where;
  for (const auto* k : m.primary_key)
    where = sql::and_(where, sql::binary(sql::BinaryOp::eq, sql::column(m.table_name(), k->column.name),
                                         sql::placeholder()));
  return where;
}

namespace {
// The statement cached in `cache` under `key`, built by build() on first use. The caller holds
// the MapperSql's mutex.
template <class Cache, class Build>
const engine::SqlText& cached(Cache& cache, const typename Cache::key_type& key, Build&& build) {
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  return cache.emplace(key, engine::SqlText(build())).first->second;
}
}  // namespace

const engine::SqlText& MapperSql::update_for(const ColumnSet& changed) const {
  std::lock_guard lock(mutex);
  return cached(updates, changed, [&] {
    sql::Update u;
    u.table = mapper->table_name();
    for (std::size_t i = 0; i < changed.size(); ++i)
      if (changed[i]) u.set.push_back({mapper->columns[i]->column.name, sql::placeholder()});
    u.where = key_condition(*mapper);
    return sql::compile(u, *dialect).sql;
  });
}

const engine::SqlText& MapperSql::update_rows_for(const ColumnSet& changed) const {
  std::lock_guard lock(mutex);
  return cached(row_updates, changed, [&] {
    std::vector<const schema::Column*> set, keys;
    for (std::size_t i = 0; i < changed.size(); ++i)
      if (changed[i]) set.push_back(&mapper->columns[i]->column);
    for (const auto* k : mapper->primary_key) keys.push_back(&k->column);
    return dialect->update_rows_sql(mapper->table(), set, keys);
  });
}

const engine::SqlText& MapperSql::insert_for(const std::vector<bool>& included,
                                         const std::vector<bool>& returning) const {
  std::lock_guard lock(mutex);
  return cached(inserts, std::make_pair(included, returning), [&] {
    sql::Insert ins;
    ins.table = mapper->table_name();
    std::vector<sql::ExprPtr> row;
    for (std::size_t i = 0; i < included.size(); ++i) {
      if (included[i]) {
        ins.columns.push_back(mapper->columns[i]->column.name);
        row.push_back(sql::placeholder());
      }
      if (returning[i]) ins.returning.push_back(mapper->columns[i]->column.name);
    }
    ins.default_values = ins.columns.empty();
    if (!ins.default_values) ins.rows.push_back(std::move(row));
    return sql::compile(ins, *dialect).sql;
  });
}

const engine::SqlText& MapperSql::insert_rows_for(const std::vector<bool>& included,
                                              const std::vector<bool>& returning) const {
  std::lock_guard lock(mutex);
  return cached(row_inserts, std::make_pair(included, returning), [&] {
    std::vector<const schema::Column*> columns, returned;
    for (std::size_t i = 0; i < included.size(); ++i) {
      if (included[i]) columns.push_back(&mapper->columns[i]->column);
      if (returning[i]) returned.push_back(&mapper->columns[i]->column);
    }
    return dialect->insert_rows_sql(mapper->table(), columns, returned);
  });
}

const engine::SqlText& MapperSql::select_by(const ColumnInfo& c) const {
  std::lock_guard lock(mutex);
  return cached(selects_by, &c, [&] {
    sql::Select s;
    s.columns = column_exprs;
    s.from = mapper->table_name();
    s.where = sql::binary(sql::BinaryOp::eq, sql::column(mapper->table_name(), c.column.name),
                          sql::placeholder());
    for (const auto* k : mapper->primary_key)
      s.order_by.push_back({sql::column(mapper->table_name(), k->column.name), false});
    return sql::compile(s, *dialect).sql;
  });
}

const engine::SqlText& MapperSql::select_through(const RelationshipInfo& rel) const {
  std::lock_guard lock(mutex);
  return cached(selects_through, &rel, [&] {
    const auto& sec = rel.secondary_table.name;
    sql::Select s;
    s.columns = column_exprs;
    s.from = mapper->table_name();
    s.joins.push_back({sql::JoinKind::inner, sec, "",
                       sql::binary(sql::BinaryOp::eq,
                                   sql::column(mapper->table_name(), rel.remote_ref->column.name),
                                   sql::column(sec, rel.remote_column))});
    s.where =
        sql::binary(sql::BinaryOp::eq, sql::column(sec, rel.local_column), sql::placeholder());
    for (const auto* k : mapper->primary_key)
      s.order_by.push_back({sql::column(mapper->table_name(), k->column.name), false});
    return sql::compile(s, *dialect).sql;
  });
}

const MapperSql& DatabaseCore::sql_for(const Mapper& m) {
  if (m.bind != bind_name) return for_bind(m.bind).sql_for(m);
  ensure_registered(m);
  std::lock_guard lock(mutex_);
  auto& slot = sql_[&m];
  if (slot) return *slot;
  auto s = std::make_unique<MapperSql>();
  s->mapper = &m;
  s->dialect = dialect.get();
  const auto& table = m.table_name();
  for (const auto& c : m.columns) s->column_exprs.push_back(sql::column(table, c->column.name));

  auto insert = [&](bool skip_generated) {
    sql::Insert ins;
    ins.table = table;
    std::vector<sql::ExprPtr> row;
    for (const auto& c : m.columns) {
      if (skip_generated && c.get() == m.autoincrement) {
        if (dialect->generated_keys_by_returning()) ins.returning.push_back(c->column.name);
        continue;
      }
      ins.columns.push_back(c->column.name);
      row.push_back(sql::placeholder());
    }
    ins.default_values = ins.columns.empty();
    if (!ins.default_values) ins.rows.push_back(std::move(row));
    return sql::compile(ins, *dialect).sql;
  };
  s->insert_all = engine::SqlText(insert(false));
  s->insert_generated = engine::SqlText(insert(true));

  sql::Select get;
  get.columns = s->column_exprs;
  get.from = table;
  get.where = key_condition(m);
  s->get_by_key = engine::SqlText(sql::compile(get, *dialect).sql);

  sql::Delete del;
  del.table = table;
  del.where = key_condition(m);
  s->delete_by_key = engine::SqlText(sql::compile(del, *dialect).sql);

  slot = std::move(s);
  return *slot;
}

}  // namespace detail

namespace {
engine::EngineOptions engine_options(const DatabaseOptions& o) {
  auto eo = o.engine;
  if (o.echo && !eo.echo)
    eo.echo = [](std::string_view line) { std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data()); };
  return eo;
}
}  // namespace

Database::Database(std::string_view url, DatabaseOptions options)
    : sessions_(std::make_shared<detail::ThreadSessions>()) {
  auto parsed = engine::Url::parse(url);
  auto d = dialect::for_url(parsed);
  auto eo = engine_options(options);
  core_ = std::make_unique<detail::DatabaseCore>(std::move(parsed), std::move(d), eo,
                                                 options.naming, std::string(),
                                                 options.track_modifications);
  for (const auto& [name, bind_url] : options.binds) {
    if (name.empty() || name == "default")
      throw ArgumentError("DatabaseOptions::binds: '" + name +
                          "' cannot name a bind (the default database has no name)");
    try {
      auto bu = engine::Url::parse(bind_url);
      auto bd = dialect::for_url(bu);
      auto core = std::make_unique<detail::DatabaseCore>(std::move(bu), std::move(bd), eo,
                                                         options.naming, name);
      core->parent = core_.get();
      core_->binds.emplace(name, std::move(core));
    } catch (const ArgumentError& e) {
      throw ArgumentError("bind '" + name + "': " + e.what());
    }
  }
}

Database::~Database() {
  // Every thread's session closes while the database is whole; a thread ending now waits.
  std::lock_guard lock(sessions_->mutex);
  sessions_->closed = true;
  while (!sessions_->by_thread.empty()) {
    auto mine = std::move(sessions_->by_thread.begin()->second);
    sessions_->by_thread.erase(sessions_->by_thread.begin());
    mine.reset();
  }
}

Database& Database::register_mapper(const Mapper& m) {
  core_->ensure_registered(m);
  return *this;
}

const schema::Table& Database::add_table(schema::Table t, std::string_view bind) {
  return core_->for_bind(bind).add_table(std::move(t));
}

std::vector<std::string> Database::binds() const {
  std::vector<std::string> out;
  for (const auto& [name, core] : core_->binds) out.push_back(name);
  return out;
}

std::map<std::string, std::string> Database::rename_hints(std::string_view bind) const {
  std::map<std::string, std::string> out;
  for (const Mapper* m : core_->for_bind(bind).mappers()) {
    if (!m->renamed_from.empty()) out[m->renamed_from] = m->table_name();
    for (const auto& c : m->columns) {
      if (!c->renamed_from.empty()) out[m->table_name() + "." + c->renamed_from] = c->column.name;
    }
  }
  return out;
}

namespace {
bool table_exists(engine::Connection& c, const dialect::Dialect& d, const std::string& name) {
  // Asked of the catalog: a table that cannot be read (locked past the busy timeout, a right
  // missing) is an error, not a missing table that create_all() would create again and
  // drop_all() would skip.
  auto stmt = c.prepare(d.table_exists_sql(name));
  return stmt->step() && stmt->get_int64(0) != 0;
}
}  // namespace

namespace {
// Every database of the app: the default first, then the binds by name.
std::vector<detail::DatabaseCore*> all_cores(detail::DatabaseCore& root) {
  std::vector<detail::DatabaseCore*> out{&root};
  for (auto& [name, core] : root.binds) out.push_back(core.get());
  return out;
}
}  // namespace

void Database::create_all() {
  for (auto* core : all_cores(*core_)) {
    auto conn = core->engine.connect();
    engine::Transaction txn(*conn);
    // A foreign key to a table that no registered model or table defines, nor the database
    // has (a model not registered): PostgreSQL refused the CREATE TABLE, SQLite made a table
    // that every later insert fails on. Refused here on both, naming the remedy, as
    // SQLAlchemy's NoReferencedTableError.
    for (const auto& t : core->metadata().tables())
      for (const auto& fk : t.foreign_keys)
        if (!core->metadata().find(fk.referred_table) &&
            !table_exists(*conn, *core->dialect, fk.referred_table))
          throw ArgumentError("foreign key '" + fk.name + "' of table '" + t.name +
                              "' refers to table '" + fk.referred_table +
                              "', which no registered model or table defines and the database "
                              "does not have; register its model (db.register_models<...>()) "
                              "or add the table (db.add_table(...))");
    for (const auto* t : core->metadata().sorted_tables()) {
      if (table_exists(*conn, *core->dialect, t->name)) continue;
      for (const auto& stmt : core->dialect->create_table_sql(*t)) conn->execute(stmt);
    }
    txn.commit();
  }
}

void Database::drop_all() {
  for (auto* core : all_cores(*core_)) {
    auto conn = core->engine.connect();
    engine::Transaction txn(*conn);
    auto tables = core->metadata().sorted_tables();
    for (auto it = tables.rbegin(); it != tables.rend(); ++it) {
      if (!table_exists(*conn, *core->dialect, (*it)->name)) continue;
      for (const auto& stmt : core->dialect->drop_table_sql(**it)) conn->execute(stmt);
    }
    txn.commit();
  }
}

Session& Database::session() {
  if (detail::thread_ending)
    throw InvalidRequestError("db.session() while the thread is ending: its session is closed");
  std::lock_guard lock(sessions_->mutex);
  if (sessions_->closed)  // an after_rollback handler of a session the destructor closes
    throw InvalidRequestError("db.session() while the Database is being destroyed");
  auto& mine = sessions_->by_thread[std::this_thread::get_id()];
  if (!mine) {
    mine = std::make_unique<Session>(*this);
    detail::thread_exit.remember(sessions_);
  }
  return *mine;
}

void Database::remove_session() {
  Session* mine = nullptr;
  {
    std::lock_guard lock(sessions_->mutex);
    auto it = sessions_->by_thread.find(std::this_thread::get_id());
    if (it == sessions_->by_thread.end()) return;
    mine = it->second.get();
  }
  // The thread keeps its Session object, closed and made a new session (its settings too), so
  // that a reference db.session() gave stays valid, as Flask-SQLAlchemy's db.session does
  // after remove(): a worker loop that holds `auto& s = db.session()` across jobs used a
  // destroyed session. Outside the lock: its after_rollback handlers may use the database.
  *mine = Session(*this);
}

Session Database::new_session() { return Session(*this); }

engine::Engine& Database::engine(std::string_view bind) { return core_->for_bind(bind).engine; }
const dialect::Dialect& Database::dialect(std::string_view bind) const {
  return *core_->for_bind(bind).dialect;
}
const schema::MetaData& Database::metadata(std::string_view bind) const {
  return core_->for_bind(bind).metadata();
}
Events Database::events() { return Events(core_->events); }

void Database::set_echo(bool on) {
  for (auto* core : all_cores(*core_)) {
    if (on)
      core->engine.set_echo([](std::string_view line) {
        std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
      });
    else
      core->engine.set_echo(nullptr);
  }
}

std::string env(const char* name, std::string_view fallback) {
  const char* v = std::getenv(name);
  if (v && *v) return v;
  return std::string(fallback);
}

}  // namespace strata
