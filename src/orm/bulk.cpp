// Bulk UPDATE and DELETE (Query<T>::update / delete_): one statement each, and the session's
// objects kept consistent with what it did: the rows' keys read with the statement (RETURNING,
// or a SELECT first), matching objects given the new values or taken out of the session.
#include <algorithm>
#include <functional>
#include <optional>

#include "database_core.hpp"
#include "session_internal.hpp"
#include "strata/error.hpp"

namespace strata::detail {

namespace {
void require_plain_filter(const QuerySpec& q, const char* what) {
  if (q.limit || q.offset || !q.order_by.empty())
    throw ArgumentError(std::string(what) +
                        "() runs one statement over the filtered rows; it cannot take "
                        "order_by, limit or offset");
  if (q.lock)
    throw ArgumentError(std::string(what) +
                        "() writes the rows, which locks them until the transaction ends; it "
                        "takes no with_for_update()");
  if (!q.joins.empty() || q.distinct || !q.group_by.empty() || q.having)
    throw ArgumentError(std::string(what) +
                        "() runs one statement over one table; it cannot take joins, distinct, "
                        "group_by or having: filter with in_(subquery) or exists(subquery) "
                        "instead");
}

// The key of a row whose first columns are the primary key's, in identity_of()'s form.
Value key_from_row(const Mapper& m, const engine::Statement& s) {
  if (m.primary_key.size() == 1) return m.primary_key.front()->row_value(s, 0);
  std::vector<Value> parts;
  for (std::size_t i = 0; i < m.primary_key.size(); ++i)
    parts.push_back(m.primary_key[i]->row_value(s, static_cast<int>(i)));
  return encode_key(parts);
}

// Columns a bulk UPDATE sets from expressions, and the values the database gave them: one
// entry a row, in the order of the keys, holding columns.size() values for a row whose key
// `wanted` takes (an object the session holds) and none for the others.
struct Computed {
  std::vector<const ColumnInfo*> columns;
  std::vector<sql::ExprPtr> exprs;
  std::function<bool(const Value& key)> wanted;
  std::vector<std::vector<Value>> values;
};

// Runs a bulk statement; when `keys` is given, collects the primary keys of the rows it
// touched (RETURNING where the dialect has it, else a SELECT with the same filter first), and
// with them the values of `computed`'s columns: returned after the UPDATE, or, by the SELECT
// first, the expressions evaluated on the rows as they are before it, which are what the
// UPDATE sets. `keys_before`: the keys the rows had before the statement (an UPDATE that sets
// the primary key would return the new ones), read by the SELECT first.
template <class Stmt>
std::int64_t run_bulk(engine::Connection& conn, const dialect::Dialect& d, const Mapper& m,
                      Stmt stmt_ast, std::vector<Value>* keys, bool keys_before = false,
                      Computed* computed = nullptr) {
  const int first_computed = static_cast<int>(m.primary_key.size());
  auto read_row = [&](const engine::Statement& row) {
    keys->push_back(key_from_row(m, row));
    if (!computed) return;
    auto& values = computed->values.emplace_back();
    if (!computed->wanted(keys->back())) return;
    for (std::size_t j = 0; j < computed->columns.size(); ++j)
      values.push_back(computed->columns[j]->row_value(row, first_computed + static_cast<int>(j)));
  };
  if (keys && d.supports_returning() && !keys_before) {
    for (const auto* k : m.primary_key) stmt_ast.returning.push_back(k->column.name);
    if (computed)
      for (const auto* c : computed->columns) stmt_ast.returning.push_back(c->column.name);
    // A computed value the member cannot hold (SQLite keeps 3000000000 in an int32 column)
    // throws as it is read back: a savepoint takes the statement back with it.
    std::optional<engine::Transaction> undo_on_error;
    if (computed) undo_on_error.emplace(conn);
    {
      auto compiled = sql::compile(stmt_ast, d);
      auto stmt = conn.prepare(compiled.sql);
      stmt->bind_all(compiled.params);
      while (stmt->step()) read_row(*stmt);
    }
    if (undo_on_error) undo_on_error->commit();
    return static_cast<std::int64_t>(keys->size());
  }
  if (keys) {
    sql::Select s;
    for (const auto* k : m.primary_key) s.columns.push_back(sql::column(m.table_name(), k->column.name));
    if (computed) s.columns.insert(s.columns.end(), computed->exprs.begin(), computed->exprs.end());
    s.from = m.table_name();
    s.where = stmt_ast.where;
    auto compiled = sql::compile(s, d);
    auto select = conn.prepare(compiled.sql);
    select->bind_all(compiled.params);
    while (select->step()) read_row(*select);
  }
  auto compiled = sql::compile(stmt_ast, d);
  auto stmt = conn.prepare(compiled.sql);
  stmt->bind_all(compiled.params);
  return stmt->execute();
}
}  // namespace

std::int64_t SessionCore::bulk_update(const Mapper& m, const QuerySpec& q,
                                      const std::vector<SetColumn>& assignments) {
  require_plain_filter(q, "update");
  m.configure();
  // PostgreSQL refuses "multiple assignments to same column"; SQLite takes the last: neither
  // is what was meant.
  for (std::size_t i = 1; i < assignments.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (assignments[i].offset == assignments[j].offset) {
        const ColumnInfo* c = m.column_at(assignments[i].offset);
        throw ArgumentError("update(): column '" + (c ? c->column.name : std::string("?")) +
                            "' of " + m.class_name + " is set twice; set each column once");
      }
  // A lock in a subquery (the queue's UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
  // LOCKED)) begins the transaction as a locking query does: on SQLite, with the write lock.
  if (auto lock = lock_taken(q)) connection_for(db_.core_for(m), lock);
  do_autoflush();
  m.configure();
  wrote_in_txn_ = true;
  sql::Update u;
  u.table = m.table_name();
  std::vector<const ColumnInfo*> set_columns;
  Computed computed;
  for (const auto& a : assignments) {
    const ColumnInfo* c = m.column_at(a.offset);
    if (!c) throw ArgumentError("update(): a member that is not a mapped column of " + m.class_name);
    u.set.push_back({c->column.name, a.expr ? a.expr : sql::param(a.value)});
    set_columns.push_back(c);
    if (a.expr) {
      computed.columns.push_back(c);
      computed.exprs.push_back(a.expr);
    }
  }
  u.where = q.where;
  std::vector<Value> keys;
  const bool sync = identity_.holds(&m);
  const bool sets_key = std::any_of(set_columns.begin(), set_columns.end(), [&](const auto* c) {
    return std::find(m.primary_key.begin(), m.primary_key.end(), c) != m.primary_key.end();
  });
  computed.wanted = [&](const Value& key) { return identity_.find(&m, key) != nullptr; };
  auto rows = run_bulk(connection(m), dialect_for(m), m, std::move(u), sync ? &keys : nullptr,
                       sets_key, computed.columns.empty() ? nullptr : &computed);
  std::vector<InstanceState*> updated;
  for (std::size_t r = 0; r < keys.size(); ++r) {
    auto* found = identity_.find(&m, keys[r]);
    if (!found) continue;
    auto& st = *found;
    void* obj = st.obj.get();
    for (std::size_t i = 0, j = 0; i < set_columns.size(); ++i) {
      states_.keep_for_rollback(st, set_columns[i]->index);
      if (assignments[i].expr) set_columns[i]->set(obj, computed.values[r][j++]);
      else set_columns[i]->set(obj, assignments[i].value);
    }
    updated.push_back(&st);
  }
  // A foreign key set by the statement: post->author and the old and new authors' loaded
  // collections follow it, as for a key set by hand (compared with the snapshot, so before
  // the snapshot takes the new value).
  Flush(*this).follow_keys_set_by_hand(updated, &set_columns);
  for (auto* st : updated)
    for (const auto* c : set_columns) st->snapshot.take(*c, st->obj.get());
  // A primary key set by the statement: the objects go under their new keys (all out first,
  // then all in, so that one object's new key is never another's old one).
  if (sets_key) {
    for (auto* st : updated) identity_.erase_if_is(st);
    for (auto* st : updated) {
      st->key = identity_of(m, st->obj.get());
      identity_.put(st);
    }
  }
  return rows;
}

std::int64_t SessionCore::bulk_delete(const Mapper& m, const QuerySpec& q) {
  require_plain_filter(q, "delete_");
  // As bulk_update(): a lock in a subquery begins the transaction as a locking query does.
  if (auto lock = lock_taken(q)) connection_for(db_.core_for(m), lock);
  do_autoflush();
  m.configure();
  wrote_in_txn_ = true;
  sql::Delete d;
  d.table = m.table_name();
  d.where = q.where;
  std::vector<Value> keys;
  const bool sync = identity_.holds(&m);
  std::int64_t rows = 0;
  try {
    rows = run_bulk(connection(m), dialect_for(m), m, std::move(d), sync ? &keys : nullptr);
  } catch (const IntegrityError& e) {
    if (e.kind() != ConstraintKind::foreign_key || !e.constraint().empty()) throw;
    // SQLite says only "FOREIGN KEY constraint failed": the schema tells which keys refer to
    // the table.
    std::string referring;
    const schema::ForeignKey* only = nullptr;
    const schema::Table* only_table = nullptr;
    int count = 0;
    for (const auto& t : db_.core_for(m).metadata().tables())
      for (const auto& fk : t.foreign_keys)
        if (fk.referred_table == m.table_name() &&
            fk.on_delete != schema::ReferentialAction::cascade &&
            fk.on_delete != schema::ReferentialAction::set_null &&
            fk.on_delete != schema::ReferentialAction::set_default) {  // those cannot fail
          referring += (referring.empty() ? "'" : ", '") + fk.name + "' of '" + t.name + "'";
          only = &fk;
          only_table = &t;
          ++count;
        }
    if (count == 0) throw;
    throw IntegrityError("deleting rows of '" + m.table_name() +
                             "' would break a foreign key: rows still refer to them through " +
                             referring +
                             "; delete those first, or declare ON DELETE on the key (" +
                             e.what() + ")",
                         e.info(), ConstraintKind::foreign_key,
                         count == 1 ? only_table->name : std::string(),
                         count == 1 ? only->name : std::string());
  }
  for (const auto& key : keys) {
    auto* found = identity_.find(&m, key);
    if (!found) continue;
    auto& st = *found;
    identity_.erase_if_is(&st);
    st.status = ObjectStatus::deleted;  // leaves the session at commit; back on rollback
    st.marked_for_delete = false;
  }
  return rows;
}

}  // namespace strata::detail
