// SQLite's migration DDL: the native ALTER TABLE forms where SQLite has them (RENAME TO,
// RENAME COLUMN, ADD COLUMN and DROP COLUMN when SQLite accepts them, CREATE/DROP INDEX), and
// the table rebuild for everything else (the "12 steps" of https://sqlite.org/lang_altertable.html
// section 7). The migration runtime calls SqliteDialect::alter_table_sql() through Dialect.
//
// A rebuild runs, inside the caller's transaction, with foreign-key enforcement switched off
// before that transaction began (AlterPlan::foreign_keys_off), and the caller runs
// foreign_key_check_sql() before COMMIT:
//   CREATE TABLE _strata_tmp_<t> (<the table after the change, every constraint named>)
//   INSERT INTO _strata_tmp_<t> (<kept columns>) SELECT <their old names> FROM <t>
//   DROP TABLE <t>
//   ALTER TABLE _strata_tmp_<t> RENAME TO <t>
//   CREATE INDEX ... for every index of the table after the change
// Rows keep their values and keys; constraint names survive because SQLite keeps them only in
// the CREATE TABLE text and the new text comes from `after`. Other tables' foreign keys name
// the table, not its storage, so they hold again once the new table has the old name.
// A column whose type kind changes is converted in the copy into what strata writes for the
// new type (sqlite_convert.cpp): affinity alone changes only text that reads as a number, and
// a bare CAST would silently turn 'abc' into 0 for INTEGER. A value that does not convert
// fails the INSERT through a trigger made for the copy and dropped after it:
//   CREATE TRIGGER _strata_convert_<t> BEFORE INSERT ON _strata_tmp_<t>
//     BEGIN SELECT RAISE(ABORT, ...) WHERE typeof(NEW.<c>) NOT IN (<its storage>, 'null'); END
// The same kind, String and Text, or an integer into a wider kind are copied as they are.
// Adding NOT NULL over rows that hold NULL makes the INSERT fail with SQLite's NOT NULL error,
// so the caller's transaction rolls back and nothing is lost.
//
// Triggers and views are not part of the schema model: DROP TABLE drops the table's triggers,
// and a trigger or view naming the table makes the RENAME step fail ("error in view v: no such
// table"). rebuild_dependents() finds them with their SQL; the migration runtime drops them
// before the rebuild and creates them again after it (SQLite's documented procedure for
// changes ALTER TABLE cannot make).
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "../ddl.hpp"
#include "sqlite.hpp"

// Native RENAME COLUMN needs 3.25, DROP COLUMN 3.35.
static_assert(SQLITE_VERSION_NUMBER >= 3035000, "strata's SQLite DDL needs SQLite 3.35 or later");

namespace strata::dialect::sqlite {
namespace {

using Kind = TableChange::Kind;

// Whether s is `upper` (an upper-case word) in any case.
bool is_word(std::string_view s, std::string_view upper) {
  return s.size() == upper.size() &&
         std::equal(s.begin(), s.end(), upper.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == y;
         });
}

bool is_null_literal(std::string_view sql) { return is_word(trim(sql), "NULL"); }

}  // namespace

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

bool is_constant_literal(std::string_view sql) {
  sql = trim(sql);
  if (sql.empty()) return false;
  for (std::string_view word : {"NULL", "TRUE", "FALSE"}) {
    if (is_word(sql, word)) return true;
  }
  auto is_string = [](std::string_view s) {  // '...' with quotes inside doubled
    if (s.size() < 2 || s.front() != '\'' || s.back() != '\'') return false;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] != '\'') continue;
      if (i + 2 >= s.size() || s[i + 1] != '\'') return false;  // a quote ends it early
      ++i;
    }
    return true;
  };
  if (is_string(sql)) return true;
  if ((sql[0] == 'x' || sql[0] == 'X') && is_string(sql.substr(1))) {
    return std::all_of(sql.begin() + 2, sql.end() - 1,
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  }
  if (sql[0] == '+' || sql[0] == '-') sql = trim(sql.substr(1));
  if (sql.size() > 2 && sql[0] == '0' && (sql[1] == 'x' || sql[1] == 'X')) {
    return std::all_of(sql.begin() + 2, sql.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  }
  // digits [. digits] [e [+-] digits], or . digits ...
  std::size_t i = 0;
  std::size_t digits = 0;
  auto run = [&] {
    std::size_t n = 0;
    while (i < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i])) != 0) ++i, ++n;
    return n;
  };
  digits += run();
  if (i < sql.size() && sql[i] == '.') {
    ++i;
    digits += run();
  }
  if (digits == 0) return false;
  if (i < sql.size() && (sql[i] == 'e' || sql[i] == 'E')) {
    ++i;
    if (i < sql.size() && (sql[i] == '+' || sql[i] == '-')) ++i;
    if (run() == 0) return false;
  }
  return i == sql.size();
}

namespace {

// 'text' with its quotes doubled.
std::string text_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

schema::Table without_column(schema::Table t, std::string_view column) {
  std::erase_if(t.columns, [&](const schema::Column& c) { return c.name == column; });
  return t;
}

// SQLite's rules for ALTER TABLE ADD COLUMN (lang_altertable.html, "ADD COLUMN"), for the
// column named `name` of `after`:
// - not a PRIMARY KEY column, nor UNIQUE ("Cannot add a PRIMARY KEY/UNIQUE column");
// - NOT NULL only with a default other than NULL;
// - a default that is a constant literal (not CURRENT_TIME/_DATE/_TIMESTAMP, not "(expr)");
// - a REFERENCES column needs a NULL default while foreign keys are on; CHECK constraints
//   are tested against existing rows.
// Our schema keeps UNIQUE, REFERENCES and CHECK as table constraints, which ADD COLUMN cannot
// add at all: the native form is used only when `after` is `before` plus the column and
// nothing else, so any new constraint or index on the column means a rebuild. The native form
// appends, so a column placed elsewhere (a downgrade restoring a dropped middle column) means
// a rebuild too: column order is part of the schema a downgrade restores.
bool can_add_natively(const schema::Table& before, const schema::Table& after,
                      const std::string& name) {
  if (after.columns.empty() || after.columns.back().name != name) return false;
  const schema::Column& c = *after.find_column(name);
  if (c.primary_key || c.autoincrement || ddl::in_primary_key(after, name)) return false;
  const bool has_default = c.server_default && !is_null_literal(*c.server_default);
  if (!c.nullable && !has_default) return false;
  if (c.server_default && !is_constant_literal(*c.server_default)) return false;
  return without_column(after, name) == before;
}

// SQLite's rules for ALTER TABLE DROP COLUMN (lang_altertable.html, "DROP COLUMN"): it fails
// when the column is part of the PRIMARY KEY, has a UNIQUE constraint, is indexed, is named
// in a partial index's WHERE, in a CHECK constraint, in a foreign key, or in a generated
// column, trigger or view. The schema model has no partial indexes, generated columns,
// triggers or views; for the rest, `before` is searched (a CHECK by the identifiers its text
// names). As for ADD COLUMN, `after` must be `before` less the column and nothing else.
// Foreign keys of other tables that refer to this column cannot be seen here; they refer to a
// key, which is a PRIMARY KEY or UNIQUE column and so never dropped natively.
bool can_drop_natively(const schema::Table& before, const schema::Table& after,
                       const std::string& name) {
  if (ddl::in_primary_key(before, name) || before.find_column(name)->primary_key) return false;
  for (const schema::UniqueConstraint& uq : before.uniques) {
    if (contains(uq.columns, name)) return false;
  }
  for (const schema::Index& ix : before.indexes) {
    if (contains(ix.columns, name)) return false;
  }
  for (const schema::ForeignKey& fk : before.foreign_keys) {
    if (contains(fk.columns, name)) return false;
  }
  for (const schema::CheckConstraint& ck : before.checks) {
    if (ddl::mentions_identifier(ck.sqltext, name)) return false;
  }
  return without_column(before, name) == after;
}

}  // namespace

AlterPlan rebuild_table_sql(const SqliteDialect& d, const schema::Table& before,
                            const schema::Table& after, const TableChange& change) {
  ddl::check_change(before, after, change);
  // The new table is made under a temporary name, which a check that qualifies its columns
  // by the table's name (t.x > 0) would not find; renamed, SQLite would write the name into
  // the check again, quoted, so it would no longer read as the migrations wrote it.
  for (const schema::CheckConstraint& ck : after.checks) {
    if (ddl::qualifies_by(ck.sqltext, after.name)) {
      throw CompileError("cannot rebuild table '" + after.name + "' on SQLite: its check " +
                         (ck.name.empty() ? std::string() : "'" + ck.name + "' ") + "(" +
                         ck.sqltext + ") names its columns after the table's name; write "
                         "them without it (x > 0 rather than " + after.name +
                         ".x > 0), in a migration that drops the check and adds it again");
    }
  }
  // Also checks `after` (named indexes, autoincrement rules), naming the real table.
  std::vector<std::string> create = d.create_table_sql(after);
  const std::string temporary = d.quote(std::string(rebuild_prefix) + after.name);
  const std::string head = "CREATE TABLE " + d.quote(after.name) + " (";
  if (create.front().rfind(head, 0) != 0) {
    throw CompileError("cannot rebuild table '" + after.name +
                       "': its CREATE TABLE does not start with '" + head + "'");
  }
  create.front().replace(0, head.size(), "CREATE TABLE " + temporary + " (");

  // Each column of `after` is filled from the column of `before` it was (renamed, or the
  // same name); a new column is left to its default.
  std::vector<std::string> into;
  std::vector<std::string> from;
  std::vector<std::string> selected;  // what the copy selects: `from`, converted where needed
  std::string refusals;               // the conversion trigger's statements
  for (const schema::Column& c : after.columns) {
    const std::string& source =
        change.kind == Kind::rename_column && c.name == change.new_name ? change.name : c.name;
    const schema::Column* old_column = before.find_column(source);
    if (old_column == nullptr) continue;
    into.push_back(c.name);
    from.push_back(source);
    const auto conversion = convert_column_sql(d, source, old_column->type, c.type);
    if (!conversion) {
      selected.push_back(d.quote(source));
      continue;
    }
    selected.push_back(conversion->expression);
    refusals += " SELECT RAISE(ABORT, " +
                text_literal("column '" + source + "' of table '" + before.name +
                                        "' holds a value that does not convert from " +
                                        schema::to_string(old_column->type) + " to " +
                                        schema::to_string(c.type)) +
                ") WHERE typeof(NEW." + d.quote(c.name) + ") NOT IN (" +
                text_literal(conversion->storage) + ", 'null');";
  }
  // Guard against losing data the change did not ask to drop.
  for (const schema::Column& c : before.columns) {
    if (contains(from, c.name)) continue;
    if (change.kind == Kind::drop_column && c.name == change.name) continue;
    throw CompileError(std::string(ddl::to_string(change.kind)) + " on table '" + before.name +
                       "': rebuilding the table would lose column '" + c.name +
                       "', which is not in the table after the change; drop it with its own "
                       "drop_column change");
  }
  if (into.empty()) {
    throw CompileError("cannot rebuild table '" + before.name +
                       "': it would keep none of its columns, so its rows cannot be copied");
  }

  AlterPlan plan;
  plan.rebuild = true;
  plan.foreign_keys_off = true;
  plan.statements.push_back(std::move(create.front()));
  const std::string trigger = d.quote("_strata_convert_" + after.name);
  if (!refusals.empty()) {
    plan.statements.push_back("CREATE TRIGGER " + trigger + " BEFORE INSERT ON " + temporary +
                              " BEGIN" + refusals + " END");
  }
  std::string select;
  for (const std::string& s : selected) select += (select.empty() ? "" : ", ") + s;
  plan.statements.push_back("INSERT INTO " + temporary + " (" + ddl::column_list(d, into) +
                            ") SELECT " + select + " FROM " + d.quote(before.name));
  if (!refusals.empty()) plan.statements.push_back("DROP TRIGGER " + trigger);
  plan.statements.push_back("DROP TABLE " + d.quote(before.name));
  plan.statements.push_back("ALTER TABLE " + temporary + " RENAME TO " + d.quote(after.name));
  for (std::size_t i = 1; i < create.size(); ++i) plan.statements.push_back(std::move(create[i]));
  return plan;
}

AlterPlan SqliteDialect::alter_table_sql(const schema::Table& before, const schema::Table& after,
                                         const TableChange& change) const {
  ddl::check_change(before, after, change);
  switch (change.kind) {
    case Kind::rename_table:
    case Kind::rename_column:  // also renames the column in indexes, checks and foreign keys
    case Kind::create_index:
    case Kind::drop_index:
    case Kind::validate_constraint:  // nothing: SQLite adds every constraint valid
      return Dialect::alter_table_sql(before, after, change);
    case Kind::add_column:
      if (can_add_natively(before, after, change.name)) {
        return Dialect::alter_table_sql(before, after, change);
      }
      break;
    case Kind::drop_column:
      if (can_drop_natively(before, after, change.name)) {
        return Dialect::alter_table_sql(before, after, change);
      }
      break;
    case Kind::alter_column:
    case Kind::add_unique:
    case Kind::drop_unique:
    case Kind::add_foreign_key:
    case Kind::drop_foreign_key:
    case Kind::add_check:
    case Kind::drop_check:  // SQLite has no ALTER COLUMN nor ADD/DROP CONSTRAINT
    case Kind::rename_constraint: break;  // a name lives only in the CREATE TABLE text
  }
  return rebuild_table_sql(*this, before, after, change);
}

namespace {

// The triggers and views of the schema in the order they were created (an object is created
// after those it uses), and which of them name `table`, its own triggers included. SQLite
// rewrites every reference to a renamed table in triggers and views: those that change under
// a trial rename, rolled back, are the ones that name it. Throws the database's error when
// the rename fails (a view already broken).
struct NamingObjects {
  struct Entry {
    std::string type, name, table, sql;
    bool operator==(const Entry&) const = default;
  };
  std::vector<Entry> all;
  std::vector<bool> naming;  // parallel to all
};

NamingObjects objects_naming(const SqliteDialect& d, engine::Connection& conn,
                             const std::string& table) {
  auto read = [&] {
    std::vector<NamingObjects::Entry> out;
    auto stmt = conn.prepare(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('trigger', 'view') "
        "ORDER BY rowid");
    while (stmt->step()) {
      out.push_back({std::string(stmt->get_text(0)), std::string(stmt->get_text(1)),
                     std::string(stmt->get_text(2)),
                     stmt->is_null(3) ? std::string() : std::string(stmt->get_text(3))});
    }
    return out;
  };
  NamingObjects out;
  out.all = read();
  out.naming.assign(out.all.size(), false);
  if (out.all.empty()) return out;
  const std::string savepoint = "strata_rebuild_probe";
  conn.savepoint(savepoint);
  std::vector<NamingObjects::Entry> after;
  try {
    conn.execute("ALTER TABLE " + d.quote(table) + " RENAME TO " +
                 d.quote("_strata_probe_" + table));
    after = read();
  } catch (const Error&) {
    conn.rollback_to_savepoint(savepoint);
    conn.release_savepoint(savepoint);
    throw;  // a view already broken: the rebuild's own RENAME would fail the same way
  }
  conn.rollback_to_savepoint(savepoint);
  conn.release_savepoint(savepoint);
  for (std::size_t i = 0; i < out.all.size() && i < after.size(); ++i)
    out.naming[i] = !(out.all[i] == after[i]);
  return out;
}

}  // namespace

std::vector<DependentObject> SqliteDialect::rebuild_dependents(engine::Connection& conn,
                                                              const RebuiltTable& table) const {
  // A column the migrations do not know (added by an execute) is one the rebuild's INSERT
  // would not copy: refused rather than lost. (table_xinfo: generated columns too.)
  {
    auto stmt = conn.prepare("SELECT name FROM pragma_table_xinfo(?) ORDER BY cid");
    stmt->bind(0, Value{table.name});
    while (stmt->step()) {
      const std::string column(stmt->get_text(0));
      const bool known = std::any_of(table.columns.begin(), table.columns.end(),
                                     [&](const std::string& c) { return ddl::same_ignoring_case(c, column); });
      if (!known) {
        throw CompileError("table '" + table.name + "' has a column '" + column +
                           "' that the migrations do not describe (made by SQL of its own?); "
                           "rebuilding the table would lose its values: describe it with an "
                           "add_column operation, or drop it, before a migration that rebuilds "
                           "the table");
      }
    }
  }

  std::vector<DependentObject> out;
  // Indexes of the table with a text of their own (not those of its PRIMARY KEY and UNIQUE
  // constraints, which the new CREATE TABLE makes) that the rebuild does not create.
  {
    auto stmt = conn.prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND "
        "sql IS NOT NULL ORDER BY rowid");
    stmt->bind(0, Value{table.name});
    while (stmt->step()) {
      std::string name(stmt->get_text(0));
      const bool known = std::any_of(table.indexes.begin(), table.indexes.end(),
                                     [&](const std::string& ix) { return ddl::same_ignoring_case(ix, name); });
      if (!known)
        out.push_back({DependentObject::Kind::index, std::move(name), std::string(stmt->get_text(1))});
    }
  }
  const NamingObjects probe = objects_naming(*this, conn, table.name);
  const std::vector<NamingObjects::Entry>& before = probe.all;
  std::vector<bool> dependent = probe.naming;
  // A view or trigger that uses a view dropped here breaks the rename step as well (SQLite
  // checks every view and trigger of the schema then): it goes too, and what uses it, found by
  // the text naming the view (one naming it otherwise, say as a column, goes needlessly and
  // comes back the same).
  for (bool grew = true; grew;) {
    grew = false;
    for (std::size_t v = 0; v < before.size(); ++v) {
      if (!dependent[v] || before[v].type != "view") continue;
      for (std::size_t i = 0; i < before.size(); ++i) {
        if (dependent[i] || !ddl::mentions_identifier(before[i].sql, before[v].name)) continue;
        dependent[i] = true;
        grew = true;
      }
    }
  }
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (!dependent[i]) continue;
    out.push_back({before[i].type == "view" ? DependentObject::Kind::view
                                            : DependentObject::Kind::trigger,
                   before[i].name, before[i].sql});
  }
  return out;
}

std::vector<DependentObject> SqliteDialect::drop_dependents(engine::Connection& conn,
                                                            const std::string& table) const {
  const NamingObjects probe = objects_naming(*this, conn, table);
  std::vector<DependentObject> out;
  for (std::size_t i = 0; i < probe.all.size(); ++i) {
    const NamingObjects::Entry& e = probe.all[i];
    // The table's own triggers go with it.
    if (!probe.naming[i] || (e.type == "trigger" && ddl::same_ignoring_case(e.table, table)))
      continue;
    out.push_back({e.type == "view" ? DependentObject::Kind::view : DependentObject::Kind::trigger,
                   e.name, e.sql});
  }
  return out;
}

}  // namespace strata::dialect::sqlite
