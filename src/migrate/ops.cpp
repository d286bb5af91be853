// What each migration operation knows about itself: its inverse, whether it is destructive or
// risky, a readable line and its file-format name. Used by `db migrate` (the downgrade list and
// the file's comments), `db downgrade`, `db lint` and the fold's error messages.
#include "strata/migrate/ops.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "strata/migrate/errors.hpp"

#include "ops_text.hpp"

namespace strata::migrate {

namespace detail {

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

std::string column_summary(const schema::Column& c) {
  std::string out = schema::to_string(c.type);
  out += c.nullable ? " NULL" : " NOT NULL";
  if (c.server_default) out += " DEFAULT " + *c.server_default;
  if (c.primary_key) out += " PRIMARY KEY";
  if (c.autoincrement) out += " AUTOINCREMENT";
  return out;
}

}  // namespace detail

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// The SQL of an ExecuteOp for messages: one line, at most ~60 characters.
std::string sql_excerpt(const std::map<std::string, std::string>& sql) {
  if (sql.empty()) return "(no SQL)";
  auto it = sql.find("*");
  const std::string& text = it != sql.end() ? it->second : sql.begin()->second;
  std::string line;
  bool space = false;
  for (char ch : text) {
    if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
      space = !line.empty();
      continue;
    }
    if (space) line += ' ';
    space = false;
    line += ch;
  }
  constexpr std::size_t max_length = 60;
  if (line.size() > max_length) line = line.substr(0, max_length - 3) + "...";
  return line;
}

// What an AlterColumnOp changes: "String(140) -> String(280), NULL -> NOT NULL".
std::string alter_changes(const schema::Column& before, const schema::Column& after) {
  std::vector<std::string> parts;
  if (!(before.type == after.type)) {
    parts.push_back(schema::to_string(before.type) + " -> " + schema::to_string(after.type));
  }
  if (before.nullable != after.nullable) {
    parts.push_back(before.nullable ? "NULL -> NOT NULL" : "NOT NULL -> NULL");
  }
  if (before.server_default != after.server_default) {
    parts.push_back("server default " + before.server_default.value_or("none") + " -> " +
                    after.server_default.value_or("none"));
  }
  if (before.autoincrement != after.autoincrement) {
    parts.push_back(after.autoincrement ? "autoincrement on" : "autoincrement off");
  }
  if (before.primary_key != after.primary_key) {
    parts.push_back(after.primary_key ? "primary key on" : "primary key off");
  }
  if (before.name != after.name) parts.push_back("name '" + after.name + "'");
  if (parts.empty()) return "no change";
  return detail::join_names(parts);
}

bool is_integer_kind(schema::TypeKind k) {
  using schema::TypeKind;
  return k == TypeKind::small_integer || k == TypeKind::integer || k == TypeKind::big_integer;
}

int integer_rank(schema::TypeKind k) {
  using schema::TypeKind;
  switch (k) {
    case TypeKind::small_integer: return 1;
    case TypeKind::integer: return 2;
    case TypeKind::big_integer: return 3;
    default: return 0;
  }
}

}  // namespace

Operation reverse(const Operation& op) {
  return std::visit(
      Overloaded{
          [](const CreateTableOp& o) -> Operation { return DropTableOp{o.table}; },
          [](const DropTableOp& o) -> Operation { return CreateTableOp{o.table}; },
          [](const RenameTableOp& o) -> Operation {
            return RenameTableOp{o.new_name, o.old_name};
          },
          [](const AddColumnOp& o) -> Operation {
            return DropColumnOp{o.table, o.column, o.position};
          },
          [](const DropColumnOp& o) -> Operation {
            return AddColumnOp{o.table, o.column, o.position};
          },
          [](const RenameColumnOp& o) -> Operation {
            return RenameColumnOp{o.table, o.new_name, o.old_name};
          },
          [](const AlterColumnOp& o) -> Operation {
            return AlterColumnOp{o.table, o.after, o.before};
          },
          [](const CreateIndexOp& o) -> Operation {
            return DropIndexOp{o.table, o.index, o.concurrently};
          },
          [](const DropIndexOp& o) -> Operation {
            return CreateIndexOp{o.table, o.index, o.concurrently};
          },
          [](const AddUniqueOp& o) -> Operation {
            return DropUniqueOp{o.table, o.constraint};
          },
          [](const DropUniqueOp& o) -> Operation {
            return AddUniqueOp{o.table, o.constraint};
          },
          [](const AddForeignKeyOp& o) -> Operation {
            return DropForeignKeyOp{o.table, o.foreign_key};
          },
          [](const DropForeignKeyOp& o) -> Operation {
            return AddForeignKeyOp{o.table, o.foreign_key};
          },
          [](const AddCheckOp& o) -> Operation {
            return DropCheckOp{o.table, o.check};
          },
          [](const DropCheckOp& o) -> Operation {
            return AddCheckOp{o.table, o.check};
          },
          [](const RenameConstraintOp& o) -> Operation {
            return RenameConstraintOp{o.table, o.new_name, o.old_name};
          },
          [](const ValidateConstraintOp& o) -> Operation { return o; },
          [&op](const ExecuteOp& o) -> Operation {
            if (o.irreversible) {
              throw IrreversibleError(describe(op) +
                                      " is marked irreversible; it cannot be downgraded");
            }
            if (o.reverse.empty()) {
              throw IrreversibleError(describe(op) +
                                      " has no reverse SQL; give it a `reverse` or mark it "
                                      "`irreversible`");
            }
            return ExecuteOp{o.reverse, o.sql, false};
          },
          [&op](const CallOp& o) -> Operation {
            if (o.reverse.empty()) {
              throw IrreversibleError(describe(op) +
                                      " has no reverse callback; give it a `reverse` naming "
                                      "the callback that undoes it");
            }
            return CallOp{o.reverse, o.name};
          },
      },
      op);
}

std::vector<Operation> reverse(const std::vector<Operation>& ops) {
  std::vector<Operation> out;
  out.reserve(ops.size());
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) out.push_back(reverse(*it));
  return out;
}

bool is_narrowing(const schema::Type& from, const schema::Type& to) {
  using schema::TypeKind;
  const TypeKind f = from.kind;
  const TypeKind t = to.kind;
  const bool to_unbounded_text =
      t == TypeKind::text || (t == TypeKind::string && !to.length.has_value());
  if (to_unbounded_text) return f == TypeKind::blob;
  if (t == TypeKind::string) {  // String(n)
    return !(f == TypeKind::string && from.length.has_value() && *from.length <= *to.length);
  }
  if (f == t) return false;
  switch (t) {
    case TypeKind::blob: return !(f == TypeKind::string || f == TypeKind::text);
    case TypeKind::small_integer:
    case TypeKind::integer:
    case TypeKind::big_integer:
      if (f == TypeKind::boolean) return false;
      return !is_integer_kind(f) || integer_rank(t) < integer_rank(f);
    case TypeKind::float_:
      return !(f == TypeKind::small_integer || f == TypeKind::integer || f == TypeKind::boolean);
    case TypeKind::datetime: return f != TypeKind::date;
    default: return true;  // boolean, date, time: every other kind narrows into them
  }
}

bool is_destructive(const Operation& op) {
  return std::visit(
      Overloaded{
          [](const DropTableOp&) { return true; },
          [](const DropColumnOp&) { return true; },
          [](const AlterColumnOp& o) {
            return is_narrowing(o.before.type, o.after.type) ||
                   (o.before.nullable && !o.after.nullable && !o.after.server_default);
          },
          [](const AddColumnOp& o) { return !o.column.nullable && !o.column.server_default; },
          [](const auto&) { return false; },
      },
      op);
}

bool is_risky(const Operation& op) {
  return std::visit(
      Overloaded{
          [](const AlterColumnOp& o) {
            return is_narrowing(o.before.type, o.after.type) ||
                   (o.before.nullable && !o.after.nullable);
          },
          [](const AddColumnOp& o) { return !o.column.nullable && !o.column.server_default; },
          [](const CreateIndexOp& o) { return o.index.unique; },
          [](const AddUniqueOp&) { return true; },
          [](const AddCheckOp& o) { return !o.not_valid; },
          [](const AddForeignKeyOp& o) { return !o.not_valid; },
          [](const ValidateConstraintOp&) { return true; },
          [](const auto&) { return false; },
      },
      op);
}

bool is_concurrent(const Operation& op) {
  if (const auto* create = std::get_if<CreateIndexOp>(&op)) return create->concurrently;
  if (const auto* drop = std::get_if<DropIndexOp>(&op)) return drop->concurrently;
  return false;
}

const std::string& table_of(const Operation& op) {
  static const std::string none;
  return std::visit(
      Overloaded{[](const CreateTableOp& o) -> const std::string& { return o.table.name; },
                 [](const DropTableOp& o) -> const std::string& { return o.table.name; },
                 [](const RenameTableOp& o) -> const std::string& { return o.old_name; },
                 [](const ExecuteOp&) -> const std::string& { return none; },
                 [](const CallOp&) -> const std::string& { return none; },
                 [](const auto& o) -> const std::string& { return o.table; }},
      op);
}

std::string warning(const Operation& op) {
  if (const auto* drop = std::get_if<DropTableOp>(&op)) {
    return "destructive: drops table '" + drop->table.name + "' and its data";
  }
  if (const auto* drop = std::get_if<DropColumnOp>(&op)) {
    return "destructive: drops column '" + drop->table + "." + drop->column.name + "' and its data";
  }
  if (is_destructive(op)) {
    return "destructive: " + describe(op) + " may lose data or fail on existing rows";
  }
  if (is_risky(op)) return "risky: " + describe(op) + " may fail on rows already in the table";
  return {};
}

std::string describe(const Operation& op) {
  using detail::join_names;
  auto on = [](const std::string& table, const std::vector<std::string>& columns) {
    return " on '" + table + "' (" + join_names(columns) + ")";
  };
  return std::visit(
      Overloaded{
          [](const CreateTableOp& o) { return "create table '" + o.table.name + "'"; },
          [](const DropTableOp& o) { return "drop table '" + o.table.name + "'"; },
          [](const RenameTableOp& o) {
            return "rename table '" + o.old_name + "' to '" + o.new_name + "'";
          },
          [](const AddColumnOp& o) {
            std::string s = "add column '" + o.table + "." + o.column.name + "'";
            if (o.position) s += " at position " + std::to_string(*o.position);
            return s;
          },
          [](const DropColumnOp& o) {
            return "drop column '" + o.table + "." + o.column.name + "'";
          },
          [](const RenameColumnOp& o) {
            return "rename column '" + o.table + "." + o.old_name + "' to '" + o.new_name + "'";
          },
          [](const AlterColumnOp& o) {
            return "alter column '" + o.table + "." + o.before.name + "' (" +
                   alter_changes(o.before, o.after) + ")";
          },
          [&](const CreateIndexOp& o) {
            return std::string(o.index.unique ? "create unique index '" : "create index '") +
                   o.index.name + "'" + on(o.table, o.index.columns) +
                   (o.concurrently ? " concurrently" : "");
          },
          [](const DropIndexOp& o) {
            return "drop index '" + o.index.name + "' on '" + o.table + "'" +
                   (o.concurrently ? " concurrently" : "");
          },
          [&](const AddUniqueOp& o) {
            return "add unique constraint '" + o.constraint.name + "'" +
                   on(o.table, o.constraint.columns);
          },
          [](const DropUniqueOp& o) {
            return "drop unique constraint '" + o.constraint.name + "' on '" + o.table + "'";
          },
          [&](const AddForeignKeyOp& o) {
            const schema::ForeignKey& fk = o.foreign_key;
            return "add foreign key '" + fk.name + "'" + on(o.table, fk.columns) + " -> '" +
                   fk.referred_table + "' (" + join_names(fk.referred_columns) + ")" +
                   (o.not_valid ? " not valid" : "");
          },
          [](const DropForeignKeyOp& o) {
            return "drop foreign key '" + o.foreign_key.name + "' on '" + o.table + "'";
          },
          [](const AddCheckOp& o) {
            return "add check constraint '" + o.check.name + "' on '" + o.table + "' (" +
                   o.check.sqltext + ")" + (o.not_valid ? " not valid" : "");
          },
          [](const DropCheckOp& o) {
            return "drop check constraint '" + o.check.name + "' on '" + o.table + "'";
          },
          [](const RenameConstraintOp& o) {
            return "rename constraint '" + o.old_name + "' on '" + o.table + "' to '" +
                   o.new_name + "'";
          },
          [](const ValidateConstraintOp& o) {
            return "validate constraint '" + o.name + "' on '" + o.table + "'";
          },
          [](const ExecuteOp& o) { return "execute SQL \"" + sql_excerpt(o.sql) + "\""; },
          [](const CallOp& o) { return "call '" + o.name + "'"; },
      },
      op);
}

std::string_view kind_name(const Operation& op) {
  return std::visit(
      Overloaded{
          [](const CreateTableOp&) -> std::string_view { return "create_table"; },
          [](const DropTableOp&) -> std::string_view { return "drop_table"; },
          [](const RenameTableOp&) -> std::string_view { return "rename_table"; },
          [](const AddColumnOp&) -> std::string_view { return "add_column"; },
          [](const DropColumnOp&) -> std::string_view { return "drop_column"; },
          [](const RenameColumnOp&) -> std::string_view { return "rename_column"; },
          [](const AlterColumnOp&) -> std::string_view { return "alter_column"; },
          [](const CreateIndexOp&) -> std::string_view { return "create_index"; },
          [](const DropIndexOp&) -> std::string_view { return "drop_index"; },
          [](const AddUniqueOp&) -> std::string_view { return "add_unique"; },
          [](const DropUniqueOp&) -> std::string_view { return "drop_unique"; },
          [](const AddForeignKeyOp&) -> std::string_view { return "add_foreign_key"; },
          [](const DropForeignKeyOp&) -> std::string_view { return "drop_foreign_key"; },
          [](const AddCheckOp&) -> std::string_view { return "add_check"; },
          [](const DropCheckOp&) -> std::string_view { return "drop_check"; },
          [](const RenameConstraintOp&) -> std::string_view { return "rename_constraint"; },
          [](const ValidateConstraintOp&) -> std::string_view { return "validate_constraint"; },
          [](const ExecuteOp&) -> std::string_view { return "execute"; },
          [](const CallOp&) -> std::string_view { return "call"; },
      },
      op);
}

}  // namespace strata::migrate
