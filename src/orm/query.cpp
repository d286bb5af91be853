// The compiled side of queries beyond one model's rows: joins (through relationships or on
// explicit conditions), subqueries, table handles, aggregates, and the reading of tuple
// queries' rows. query.hpp's templates check types and call these.
#include <algorithm>
#include <string>

#include "database_core.hpp"
#include "session_internal.hpp"
#include "strata/error.hpp"
#include "strata/orm/functions.hpp"
#include "strata/orm/query.hpp"

namespace strata {

TableRef::TableRef(std::string name) : name_(std::move(name)) {
  if (name_.empty()) throw ArgumentError("TableRef: the table needs a name");
}

TableRef::TableRef(const schema::Table& table) : TableRef(table.name) {
  for (const auto& c : table.columns) columns_.push_back(c.name);
}

sql::ExprPtr TableRef::column_expr(std::string_view name) const {
  if (name.empty()) throw ArgumentError("TableRef '" + name_ + "': a column needs a name");
  if (!columns_.empty() && std::find(columns_.begin(), columns_.end(), name) == columns_.end()) {
    std::string known;
    for (const auto& c : columns_) known += (known.empty() ? "" : ", ") + c;
    throw ArgumentError("table '" + name_ + "' has no column '" + std::string(name) +
                        "' (columns: " + known + ")");
  }
  return sql::column(name_, std::string(name));
}

namespace detail {

sql::ExprPtr aggregate(const char* name, const sql::ExprPtr& arg, bool distinct) {
  return sql::function(name, {arg}, distinct);
}

namespace {
// The name a table goes by in the query: its alias, else its own name.
const std::string& name_in_query(const sql::Join& j) { return j.alias.empty() ? j.table : j.alias; }

bool in_query(const QueryState& q, const std::string& name) {
  if (name == q.from) return true;
  return std::any_of(q.spec.joins.begin(), q.spec.joins.end(),
                     [&](const sql::Join& j) { return name_in_query(j) == name; });
}
}  // namespace

void join_table(QueryState& q, const std::string& table, const std::string& alias,
                sql::ExprPtr on, sql::JoinKind kind) {
  const std::string& name = alias.empty() ? table : alias;
  if (in_query(q, name))
    throw ArgumentError("join(): '" + name +
                        "' is already part of this query; join the table again under another "
                        "name: strata::aliased<Model>(\"name\")");
  q.spec.joins.push_back(sql::Join{kind, table, alias, std::move(on)});
}

void join_relationship(QueryState& q, const Mapper& owner, std::size_t offset,
                       const std::string& source, const std::string& alias, sql::JoinKind kind) {
  owner.configure();
  const RelationshipInfo* rel = owner.relationship_at(offset);
  if (!rel)
    throw ArgumentError("join(): the member is not a relationship of " + owner.class_name +
                        "; declare it with belongs_to(...) or has_many(...) in its Model<>");
  const Mapper& target = rel->target();
  target.configure();
  const std::string& from = source.empty() ? owner.table_name() : source;
  if (!in_query(q, from))
    throw ArgumentError("join(): '" + from + "' (holding relationship " + rel->name +
                        ") is not part of this query; join it first");
  const std::string& to = alias.empty() ? target.table_name() : alias;
  // parent.key = child.foreign_key, whichever side the query starts from. A switch without
  // default: a new relationship kind (an association table: two JOINs) must say here how it
  // joins, or the build warns.
  sql::ExprPtr on;
  switch (rel->kind) {
    case RelationKind::many_to_one: {
      const ColumnInfo& key = referenced_column(*rel->fk, target);
      on = sql::binary(sql::BinaryOp::eq, sql::column(to, key.column.name),
                       sql::column(from, rel->fk->column.name));
      break;
    }
    case RelationKind::one_to_many:
    case RelationKind::one_to_one: {
      const ColumnInfo& key = referenced_column(*rel->fk, owner);
      on = sql::binary(sql::BinaryOp::eq, sql::column(from, key.column.name),
                       sql::column(to, rel->fk->column.name));
      break;
    }
    case RelationKind::many_to_many: {
      // Through the association table: owner -> link row -> target. Under an alias of the
      // target, the association table takes the name <alias>_<table>, so that a query may
      // go through the same table twice (followers and followed).
      const std::string& link_table = rel->secondary->name;
      const std::string link_alias = alias.empty() ? std::string() : alias + "_" + link_table;
      const std::string& link = link_alias.empty() ? link_table : link_alias;
      join_table(q, link_table, link_alias,
                 sql::binary(sql::BinaryOp::eq, sql::column(link, rel->local_column),
                             sql::column(from, rel->local_ref->column.name)),
                 kind);
      on = sql::binary(sql::BinaryOp::eq, sql::column(to, rel->remote_ref->column.name),
                       sql::column(link, rel->remote_column));
      break;
    }
  }
  join_table(q, target.table_name(), alias, std::move(on), kind);
}

std::shared_ptr<const sql::Select> subquery_select(const QueryState& q) {
  auto s = std::make_shared<sql::Select>();
  s->columns = q.columns.empty() ? std::vector<sql::ExprPtr>{sql::raw("1")} : q.columns;
  s->distinct = q.spec.distinct;
  s->from = q.from;
  s->joins = q.spec.joins;
  s->where = q.spec.where;
  s->group_by = q.spec.group_by;
  s->having = q.spec.having;
  s->order_by = q.spec.order_by;
  s->limit = q.spec.limit;
  s->offset = q.spec.offset;
  s->lock = q.spec.lock;
  return s;
}

sql::RowLock row_lock(const ForUpdate& options, const char* what) {
  if (options.nowait && options.skip_locked)
    throw ArgumentError(std::string(what) + "(): nowait fails when a row is locked and "
                        "skip_locked leaves it out; ask for one of them");
  using Strength = sql::RowLock::Strength;
  sql::RowLock lock;
  lock.strength = options.read ? (options.key_share ? Strength::key_share : Strength::share)
                               : (options.key_share ? Strength::no_key_update : Strength::update);
  lock.nowait = options.nowait;
  lock.skip_locked = options.skip_locked;
  return lock;
}

void throw_negative(const char* clause, std::int64_t n) {
  throw ArgumentError(std::string(clause) + "(" + std::to_string(n) +
                      "): the number of rows must not be negative");
}

void throw_result_error(const engine::Statement& s, int i, const std::exception& e) {
  throw DataError("result column " + std::to_string(i + 1) + " '" +
                      std::string(s.column_name(i)) + "': " + e.what(),
                  {});
}

void throw_null_result(const engine::Statement& s, int i) {
  throw DataError("result column " + std::to_string(i + 1) + " '" +
                      std::string(s.column_name(i)) +
                      "' is NULL but is read as a plain value (a column of an outer join?); "
                      "select strata::nullable(...) of it to read a std::optional",
                  {});
}

void SessionCore::select_rows(const sql::Select& s, const Mapper* m, RowSink sink, void* out) {
  // The database whose tables the query reads: its model's (a table of the same name may be
  // in another database too), else the one holding its FROM table.
  DatabaseCore& core = m ? db_.core_for(*m) : db_.core_for_table(s.from);
  if (const auto* lock = sql::row_lock_in(s)) connection_for(core, *lock);  // as in all()
  autoflush_before(core, s);
  auto compiled = sql::compile(s, *core.dialect);
  auto stmt = connection(core).prepare_cached(compiled.sql);
  stmt->bind_all(compiled.params);
  while (stmt->step()) sink(out, *stmt);
}

}  // namespace detail
}  // namespace strata
