// The SQL of migration operations for one dialect (from the schema state before and after
// each), and the ledger of applied migrations.
#include "strata/migrate/runtime.hpp"

#include <cstdio>

#include "strata/migrate/errors.hpp"
#include "file_format.hpp"
#include "strata/orm/datetime.hpp"

namespace strata::migrate {

namespace {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

using Kind = dialect::TableChange::Kind;

dialect::TableChange change_of(const Operation& op) {
  return std::visit(
      overloaded{
          [](const RenameTableOp& o) { return dialect::TableChange{Kind::rename_table, o.old_name, o.new_name}; },
          [](const AddColumnOp& o) { return dialect::TableChange{Kind::add_column, o.column.name, {}}; },
          [](const DropColumnOp& o) { return dialect::TableChange{Kind::drop_column, o.column.name, {}}; },
          [](const RenameColumnOp& o) { return dialect::TableChange{Kind::rename_column, o.old_name, o.new_name}; },
          [](const AlterColumnOp& o) { return dialect::TableChange{Kind::alter_column, o.before.name, {}}; },
          [](const CreateIndexOp& o) { return dialect::TableChange{Kind::create_index, o.index.name, {}, o.concurrently}; },
          [](const DropIndexOp& o) { return dialect::TableChange{Kind::drop_index, o.index.name, {}, o.concurrently}; },
          [](const AddUniqueOp& o) { return dialect::TableChange{Kind::add_unique, o.constraint.name, {}}; },
          [](const DropUniqueOp& o) { return dialect::TableChange{Kind::drop_unique, o.constraint.name, {}}; },
          [](const AddForeignKeyOp& o) { return dialect::TableChange{Kind::add_foreign_key, o.foreign_key.name, {}, false, o.not_valid}; },
          [](const DropForeignKeyOp& o) { return dialect::TableChange{Kind::drop_foreign_key, o.foreign_key.name, {}}; },
          [](const AddCheckOp& o) { return dialect::TableChange{Kind::add_check, o.check.name, {}, false, o.not_valid}; },
          [](const DropCheckOp& o) { return dialect::TableChange{Kind::drop_check, o.check.name, {}}; },
          [](const RenameConstraintOp& o) { return dialect::TableChange{Kind::rename_constraint, o.old_name, o.new_name}; },
          [](const ValidateConstraintOp& o) { return dialect::TableChange{Kind::validate_constraint, o.name, {}}; },
          [](const auto&) -> dialect::TableChange { throw CommandError("not a table change"); }},
      op);
}

std::string sql_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::vector<OperationPlan> plan(const dialect::Dialect& d, SchemaState& state,
                                const std::vector<Operation>& ops) {
  std::vector<OperationPlan> out;
  for (const auto& op : ops) {
    OperationPlan p;
    p.description = describe(op);
    if (auto* create = std::get_if<CreateTableOp>(&op)) {
      state.apply(op);
      p.statements = d.create_table_sql(create->table);
    } else if (std::holds_alternative<DropTableOp>(op)) {
      const schema::Table* current = state.find(table_of(op));
      schema::Table before = current ? *current : std::get<DropTableOp>(op).table;
      state.apply(op);  // throws when the table is not there
      p.statements = d.drop_table_sql(before);
      p.dropped_table = before.name;
    } else if (auto* exec = std::get_if<ExecuteOp>(&op)) {
      auto it = exec->sql.find(std::string(d.name()));
      if (it == exec->sql.end()) it = exec->sql.find("*");
      if (it == exec->sql.end())
        throw CommandError(p.description + ": no SQL for dialect '" + std::string(d.name()) +
                           "' (give a '" + std::string(d.name()) + "' or '*' entry)");
      p.statements = {it->second};
      p.authored = true;
    } else if (auto* call = std::get_if<CallOp>(&op)) {
      p.call = call->name;
      p.authored = true;
    } else {
      const schema::Table* current = state.find(table_of(op));
      if (!current) {
        state.apply(op);  // throws StateError naming the missing table
        continue;
      }
      schema::Table before = *current;
      auto change = change_of(op);
      state.apply(op);
      const std::string& after_name =
          change.kind == Kind::rename_table ? change.new_name : before.name;
      auto plan = d.alter_table_sql(before, *state.find(after_name), change);
      p.statements = std::move(plan.statements);
      p.rebuild = plan.rebuild;
      if (plan.rebuild) {
        p.rebuilt_table = before.name;
        for (const auto& c : before.columns) p.rebuilt_columns.push_back(c.name);
        for (const auto& ix : state.find(after_name)->indexes) p.rebuilt_indexes.push_back(ix.name);
      }
      p.foreign_keys_off = plan.foreign_keys_off;
      p.rewrite = plan.rewrite;
      p.concurrently = change.concurrently && d.indexes_concurrently();
      if (p.concurrently && change.kind == Kind::create_index) {
        p.leftover_query = d.table_exists_sql(change.name);  // any relation, indexes too
        dialect::TableChange drop{Kind::drop_index, change.name, {}, true};
        p.leftover_drop = d.alter_table_sql(*state.find(after_name), before, drop).statements.at(0);
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

namespace {
schema::Table ledger_table() {
  schema::Table t;
  t.name = Ledger::table_name;
  auto text = [](std::string name, int length) {
    return schema::Column{std::move(name), {schema::TypeKind::string, length}, false, false, false, {}};
  };
  t.columns = {text("revision", static_cast<int>(detail::file::revision_id_max)), text("checksum", 32), text("applied_at", 32),
               schema::Column{"duration_ms", {schema::TypeKind::big_integer, {}}, false, false, false, {}},
               text("status", 16),
               schema::Column{"error", {schema::TypeKind::text, {}}, true, false, false, {}}};
  t.primary_key = {"pk_strata_migrations", {"revision"}};
  return t;
}
}  // namespace

std::vector<std::string> Ledger::ensure_sql() const {
  auto statements = dialect_.create_table_sql(ledger_table());
  for (auto& s : statements) {
    const std::string create = "CREATE TABLE ";
    if (s.rfind(create, 0) == 0) s.insert(create.size(), "IF NOT EXISTS ");
  }
  return statements;
}

void Ledger::ensure(engine::Connection& c) const {
  for (const auto& s : ensure_sql()) c.execute(s);
}

namespace {
// The rows whose status is `statuses` (an SQL list of literals: 'applied').
std::vector<AppliedMigration> read_rows(engine::Connection& c, const dialect::Dialect& d,
                                        const char* statuses) {
  std::vector<AppliedMigration> rows;
  const std::string sql = "SELECT revision, checksum, applied_at, duration_ms, status, error FROM " +
                          d.quote(Ledger::table_name) + " WHERE status IN (" + statuses +
                          ") ORDER BY applied_at, revision";
  // Asked outright: a ledger that cannot be read (a lock held too long, a right missing) is an
  // error, never "nothing applied", after which an upgrade would run every migration again.
  {
    auto exists = c.prepare(d.table_exists_sql(Ledger::table_name));
    if (!exists->step() || exists->get_int64(0) == 0) return rows;  // no ledger yet
  }
  auto stmt = c.prepare(sql);
  while (stmt->step())
    rows.push_back({std::string(stmt->get_text(0)), std::string(stmt->get_text(1)),
                    std::string(stmt->get_text(2)), stmt->get_int64(3),
                    std::string(stmt->get_text(4)),
                    stmt->is_null(5) ? std::string() : std::string(stmt->get_text(5))});
  return rows;
}
}  // namespace

std::vector<AppliedMigration> Ledger::applied(engine::Connection& c) const {
  return read_rows(c, dialect_, "'applied'");
}

std::vector<AppliedMigration> Ledger::failures(engine::Connection& c) const {
  return read_rows(c, dialect_, "'failed'");
}

std::vector<AppliedMigration> Ledger::unfinished(engine::Connection& c) const {
  return read_rows(c, dialect_, "'running', 'partial'");
}

void Ledger::record_failure(engine::Connection& c, const AppliedMigration& row) const {
  remove(c, row.revision);
  AppliedMigration failed = row;
  failed.status = "failed";
  record(c, failed);
}

std::string Ledger::insert_sql(const AppliedMigration& row) const {
  return "INSERT INTO " + dialect_.quote(table_name) +
         " (revision, checksum, applied_at, duration_ms, status) VALUES (" +
         sql_literal(row.revision) + ", " + sql_literal(row.checksum) + ", " +
         sql_literal(row.applied_at) + ", " + std::to_string(row.duration_ms) + ", " +
         sql_literal(row.status) + ")";
}

std::string Ledger::delete_sql(const std::string& revision) const {
  return "DELETE FROM " + dialect_.quote(table_name) + " WHERE revision = " +
         sql_literal(revision);
}

void Ledger::record(engine::Connection& c, const AppliedMigration& row) const {
  std::string values;
  for (std::size_t i = 1; i <= 6; ++i) values += (i > 1 ? ", " : "") + dialect_.placeholder(i);
  auto stmt = c.prepare("INSERT INTO " + dialect_.quote(table_name) +
                        " (revision, checksum, applied_at, duration_ms, status, error) VALUES (" +
                        values + ")");
  stmt->bind_all({row.revision, row.checksum, row.applied_at, row.duration_ms, row.status,
                  row.error.empty() ? Value{null} : Value{row.error}});
  stmt->execute();
}

void Ledger::remove(engine::Connection& c, const std::string& revision) const {
  auto stmt = c.prepare("DELETE FROM " + dialect_.quote(table_name) + " WHERE revision = " +
                        dialect_.placeholder(1));
  stmt->bind(0, revision);
  stmt->execute();
}

std::string checksum(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace strata::migrate
