// render(): a Migration as migration-file text (docs/migration-file-format.md). Called by
// `db migrate` / `db revision` to write new files. Deterministic: the same Migration gives
// the same bytes; defaults are left out, except `nullable`, which is always written.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "strata/migrate/file.hpp"

#include "file_emit.hpp"
#include "file_format.hpp"

namespace strata::migrate {
namespace {

using detail::file::YamlNode;

YamlNode text(const std::string& s) { return YamlNode::text(s); }
YamlNode flag(bool b) { return YamlNode::word(b ? "true" : "false"); }

YamlNode names(const std::vector<std::string>& v) {
  YamlNode out = YamlNode::seq(true);
  for (const std::string& s : v) out.add(text(s));
  return out;
}

YamlNode column(const schema::Column& c) {
  YamlNode out = YamlNode::map(true);
  out.set("name", text(c.name));
  out.set("type", text(schema::to_string(c.type)));
  out.set("nullable", flag(c.nullable));
  if (c.primary_key) out.set("primary_key", flag(true));
  if (c.autoincrement) out.set("autoincrement", flag(true));
  if (c.server_default) out.set("server_default", YamlNode::sql(*c.server_default));
  return out;
}

void add_index_fields(YamlNode& m, const schema::Index& ix) {
  m.set("name", text(ix.name));
  m.set("columns", names(ix.columns));
  m.set("unique", flag(ix.unique));
}

void add_unique_fields(YamlNode& m, const schema::UniqueConstraint& uq) {
  m.set("name", text(uq.name));
  m.set("columns", names(uq.columns));
}

void add_foreign_key_fields(YamlNode& m, const schema::ForeignKey& fk) {
  m.set("name", text(fk.name));
  m.set("columns", names(fk.columns));
  m.set("referred_table", text(fk.referred_table));
  m.set("referred_columns", names(fk.referred_columns));
  if (fk.on_delete != schema::ReferentialAction::no_action) {
    m.set("on_delete", text(std::string(schema::to_sql(fk.on_delete))));
  }
  if (fk.on_update != schema::ReferentialAction::no_action) {
    m.set("on_update", text(std::string(schema::to_sql(fk.on_update))));
  }
}

void add_check_fields(YamlNode& m, const schema::CheckConstraint& ck) {
  m.set("name", text(ck.name));
  m.set("sqltext", YamlNode::sql(ck.sqltext));
}

// A list of constraints or indexes, one flow map per line.
template <class T, class AddFields>
YamlNode each(const std::vector<T>& v, AddFields add_fields) {
  YamlNode out = YamlNode::seq(false);
  for (const T& x : v) {
    YamlNode m = YamlNode::map(true);
    add_fields(m, x);
    out.add(std::move(m));
  }
  return out;
}

YamlNode table(const schema::Table& t) {
  YamlNode out = YamlNode::map(false);
  out.set("name", text(t.name));
  YamlNode columns = YamlNode::seq(false);
  for (const schema::Column& c : t.columns) columns.add(column(c));
  out.set("columns", std::move(columns));
  if (!t.primary_key.name.empty() || !t.primary_key.columns.empty()) {
    YamlNode pk = YamlNode::map(true);
    pk.set("name", text(t.primary_key.name));
    pk.set("columns", names(t.primary_key.columns));
    out.set("primary_key", std::move(pk));
  }
  if (!t.indexes.empty()) out.set("indexes", each(t.indexes, add_index_fields));
  if (!t.uniques.empty()) out.set("uniques", each(t.uniques, add_unique_fields));
  if (!t.foreign_keys.empty())
    out.set("foreign_keys", each(t.foreign_keys, add_foreign_key_fields));
  if (!t.checks.empty()) out.set("checks", each(t.checks, add_check_fields));
  return out;
}

// A table's name first: the field every one-line operation starts with.
YamlNode on_table(const std::string& table_name) {
  YamlNode out = YamlNode::map(true);
  out.set("table", text(table_name));
  return out;
}

// execute's sql and reverse: a single "*" statement as a string, else dialect: statement.
YamlNode statements(const std::map<std::string, std::string>& sql) {
  if (sql.size() == 1 && sql.begin()->first == "*") return YamlNode::sql(sql.begin()->second);
  YamlNode out = YamlNode::map(false);
  for (const auto& [dialect, statement] : sql) out.set(dialect, YamlNode::sql(statement));
  return out;
}

YamlNode fields(const CreateTableOp& op) { return table(op.table); }
YamlNode fields(const DropTableOp& op) { return table(op.table); }

YamlNode fields(const RenameTableOp& op) {
  YamlNode out = YamlNode::map(true);
  out.set("old_name", text(op.old_name));
  out.set("new_name", text(op.new_name));
  return out;
}

// add_column and drop_column: the position (when known) before the column, so the short
// fields stay at the start of the line.
YamlNode column_at(const std::string& table_name, const std::optional<std::size_t>& position,
                   const schema::Column& c) {
  YamlNode out = on_table(table_name);
  if (position) out.set("position", YamlNode::word(std::to_string(*position)));
  out.set("column", column(c));
  return out;
}

YamlNode fields(const AddColumnOp& op) { return column_at(op.table, op.position, op.column); }
YamlNode fields(const DropColumnOp& op) { return column_at(op.table, op.position, op.column); }

// rename_column, rename_constraint: a name in a table, renamed.
YamlNode renamed_in_table(const std::string& table, const std::string& old_name,
                          const std::string& new_name) {
  YamlNode out = on_table(table);
  out.set("old_name", text(old_name));
  out.set("new_name", text(new_name));
  return out;
}

YamlNode fields(const RenameColumnOp& op) {
  return renamed_in_table(op.table, op.old_name, op.new_name);
}
YamlNode fields(const RenameConstraintOp& op) {
  return renamed_in_table(op.table, op.old_name, op.new_name);
}

YamlNode fields(const AlterColumnOp& op) {
  YamlNode out = on_table(op.table);
  out.flow = false;
  out.set("before", column(op.before));
  out.set("after", column(op.after));
  return out;
}

template <class Op, class AddFields>
YamlNode table_and(const Op& op, const auto& part, AddFields add_fields) {
  YamlNode out = on_table(op.table);
  add_fields(out, part);
  return out;
}

template <class Op>
YamlNode index_fields(const Op& op) {  // create_index, drop_index
  YamlNode out = table_and(op, op.index, add_index_fields);
  if (op.concurrently) out.set("concurrently", flag(true));
  return out;
}
YamlNode fields(const CreateIndexOp& op) { return index_fields(op); }
YamlNode fields(const DropIndexOp& op) { return index_fields(op); }
YamlNode fields(const AddUniqueOp& op) { return table_and(op, op.constraint, add_unique_fields); }
YamlNode fields(const DropUniqueOp& op) { return table_and(op, op.constraint, add_unique_fields); }
YamlNode fields(const AddForeignKeyOp& op) {
  YamlNode out = table_and(op, op.foreign_key, add_foreign_key_fields);
  if (op.not_valid) out.set("not_valid", flag(true));
  return out;
}
YamlNode fields(const DropForeignKeyOp& op) {
  return table_and(op, op.foreign_key, add_foreign_key_fields);
}
YamlNode fields(const AddCheckOp& op) {
  YamlNode out = table_and(op, op.check, add_check_fields);
  if (op.not_valid) out.set("not_valid", flag(true));
  return out;
}
YamlNode fields(const ValidateConstraintOp& op) {
  YamlNode out = on_table(op.table);
  out.set("name", text(op.name));
  return out;
}
YamlNode fields(const DropCheckOp& op) { return table_and(op, op.check, add_check_fields); }

YamlNode fields(const ExecuteOp& op) {
  YamlNode out = YamlNode::map(false);
  out.set("sql", statements(op.sql));
  if (!op.reverse.empty()) out.set("reverse", statements(op.reverse));
  if (op.irreversible) out.set("irreversible", flag(true));
  return out;
}

YamlNode fields(const CallOp& op) {
  YamlNode out = YamlNode::map(true);
  out.set("name", text(op.name));
  if (!op.reverse.empty()) out.set("reverse", text(op.reverse));
  return out;
}

YamlNode operations(const std::vector<Operation>& ops) {
  YamlNode out = YamlNode::seq(false);
  for (const Operation& op : ops) {
    YamlNode item = YamlNode::map(false);
    item.set(std::string(kind_name(op)), std::visit([](const auto& o) { return fields(o); }, op));
    out.add(std::move(item), warning(op));
  }
  return out;
}

}  // namespace

std::string render(const Migration& m) {
  YamlNode root = YamlNode::map(false);
  root.set("revision", text(m.revision));
  if (m.down_revisions.empty()) {
    root.set("down_revision", YamlNode::word("null"));
  } else if (m.down_revisions.size() == 1) {
    root.set("down_revision", text(m.down_revisions.front()));
  } else {
    root.set("down_revision", names(m.down_revisions));
  }
  if (!m.branch_labels.empty()) root.set("branch_labels", names(m.branch_labels));
  root.set("message", text(m.message));
  root.set("created", text(m.created));
  if (!m.lint_allow.empty()) root.set("lint_allow", names(m.lint_allow));
  if (!m.atomic) root.set("atomic", flag(false));
  if (!m.replaces.empty()) root.set("replaces", names(m.replaces));
  root.set("upgrade", operations(m.upgrade), true);
  root.set("downgrade", operations(m.downgrade), true);
  return detail::file::emit(
      {"strata migration: edit freely; `db upgrade` runs `upgrade`, `db downgrade` runs "
       "`downgrade`.",
       "Format and operations: docs/migration-file-format.md"},
      root);
}

}  // namespace strata::migrate
