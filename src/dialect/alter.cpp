// Migration DDL of the base Dialect: one standard (PostgreSQL-flavoured) ALTER TABLE form per
// TableChange, and the check that a change fits the tables before and after it. The migration
// runtime calls Dialect::alter_table_sql(); a backend that lacks a form overrides it (SQLite
// rebuilds the table: sqlite/sqlite_alter.cpp) and reuses check_change() and these forms.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "strata/dialect/dialect.hpp"

#include "ddl.hpp"

namespace strata::dialect {

namespace ddl {
namespace {

template <class Named>
const Named* find_named(const std::vector<Named>& items, std::string_view name) {
  const auto it = std::find_if(items.begin(), items.end(),
                               [&](const Named& item) { return item.name == name; });
  return it == items.end() ? nullptr : &*it;
}

// What a change kind is about, for messages: "column", "index", "foreign key"...
std::string_view object_of(TableChange::Kind kind) {
  using K = TableChange::Kind;
  switch (kind) {
    case K::rename_table: return "table";
    case K::add_column:
    case K::drop_column:
    case K::rename_column:
    case K::alter_column: return "column";
    case K::create_index:
    case K::drop_index: return "index";
    case K::add_unique:
    case K::drop_unique: return "unique constraint";
    case K::add_foreign_key:
    case K::drop_foreign_key: return "foreign key";
    case K::add_check:
    case K::drop_check: return "check constraint";
    case K::rename_constraint: return "constraint";
    case K::validate_constraint: return "foreign key or check constraint";
  }
  return "object";
}

// Whether the object named `name` that the change concerns exists in t.
bool has_object(const schema::Table& t, TableChange::Kind kind, std::string_view name) {
  using K = TableChange::Kind;
  switch (kind) {
    case K::rename_table: return t.name == name;
    case K::add_column:
    case K::drop_column:
    case K::rename_column:
    case K::alter_column: return t.find_column(name) != nullptr;
    case K::create_index:
    case K::drop_index: return find_named(t.indexes, name) != nullptr;
    case K::add_unique:
    case K::drop_unique: return find_named(t.uniques, name) != nullptr;
    case K::add_foreign_key:
    case K::drop_foreign_key: return find_named(t.foreign_keys, name) != nullptr;
    case K::add_check:
    case K::drop_check: return find_named(t.checks, name) != nullptr;
    case K::rename_constraint:
      return (!name.empty() && t.primary_key.name == name) ||
             find_named(t.uniques, name) != nullptr || find_named(t.foreign_keys, name) != nullptr ||
             find_named(t.checks, name) != nullptr;
    case K::validate_constraint:
      return find_named(t.foreign_keys, name) != nullptr || find_named(t.checks, name) != nullptr;
  }
  return false;
}

[[noreturn]] void mismatch(const schema::Table& before, const TableChange& change,
                           const std::string& problem) {
  throw CompileError(std::string(to_string(change.kind)) + " on table '" + before.name +
                     "': " + problem +
                     "; pass the table as it is just before and just after this one change");
}

// Throws unless `name` exists in before exactly when in_before, and in after when in_after.
void expect(const schema::Table& before, const schema::Table& after, const TableChange& change,
            const std::string& name, bool in_before, bool in_after) {
  const std::string what = std::string(object_of(change.kind)) + " '" + name + "'";
  if (has_object(before, change.kind, name) != in_before) {
    mismatch(before, change,
             what + (in_before ? " does not exist before the change"
                               : " already exists before the change"));
  }
  if (has_object(after, change.kind, name) != in_after) {
    mismatch(
        before, change,
        what + (in_after ? " is missing after the change" : " is still there after the change"));
  }
}

bool is_identifier_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) != 0 || c == '_' || c == '$' || u >= 0x80;
}

// From text[i] == open, the position after the matching close; a doubled close is an
// escaped one. Returns the unquoted content in *content when asked.
std::size_t skip_quoted(std::string_view text, std::size_t i, char close, std::string* content) {
  for (++i; i < text.size(); ++i) {
    if (text[i] != close) {
      if (content) *content += text[i];
    } else if (close != ']' && i + 1 < text.size() && text[i + 1] == close) {
      if (content) *content += close;
      ++i;
    } else {
      return i + 1;
    }
  }
  return text.size();
}

}  // namespace

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view to_string(TableChange::Kind kind) {
  using K = TableChange::Kind;
  switch (kind) {
    case K::rename_table: return "rename_table";
    case K::add_column: return "add_column";
    case K::drop_column: return "drop_column";
    case K::rename_column: return "rename_column";
    case K::alter_column: return "alter_column";
    case K::create_index: return "create_index";
    case K::drop_index: return "drop_index";
    case K::add_unique: return "add_unique";
    case K::drop_unique: return "drop_unique";
    case K::add_foreign_key: return "add_foreign_key";
    case K::drop_foreign_key: return "drop_foreign_key";
    case K::add_check: return "add_check";
    case K::drop_check: return "drop_check";
    case K::rename_constraint: return "rename_constraint";
    case K::validate_constraint: return "validate_constraint";
  }
  return "change";
}

void check_change(const schema::Table& before, const schema::Table& after,
                  const TableChange& change) {
  using K = TableChange::Kind;
  if (change.name.empty()) {
    mismatch(before, change, "the change does not name the " + std::string(object_of(change.kind)));
  }
  if (change.kind == K::rename_table) {
    if (change.new_name.empty() || change.new_name == change.name) {
      mismatch(before, change, "the new name is empty or the same as the old one");
    }
    if (before.name != change.name || after.name != change.new_name) {
      mismatch(before, change,
               "expected table '" + change.name + "' before and '" + change.new_name +
                   "' after, got '" + before.name + "' and '" + after.name + "'");
    }
    return;
  }
  if (before.name != after.name) {
    mismatch(before, change,
             "the table is called '" + after.name +
                 "' after the change; a table rename is its own rename_table change");
  }
  switch (change.kind) {
    case K::rename_table: break;
    case K::add_column:
    case K::create_index:
    case K::add_unique:
    case K::add_foreign_key:
    case K::add_check: expect(before, after, change, change.name, false, true); break;
    case K::drop_column:
    case K::drop_index:
    case K::drop_unique:
    case K::drop_foreign_key:
    case K::drop_check: expect(before, after, change, change.name, true, false); break;
    case K::rename_constraint:
    case K::rename_column:
      if (change.new_name.empty() || change.new_name == change.name) {
        mismatch(before, change,
                 std::string("the new ") + std::string(object_of(change.kind)) +
                     " name is empty or the same as the old one");
      }
      expect(before, after, change, change.name, true, false);
      expect(before, after, change, change.new_name, false, true);
      break;
    case K::validate_constraint:
      expect(before, after, change, change.name, true, true);
      if (before != after) mismatch(before, change, "validating a constraint changes no schema");
      break;
    case K::alter_column:
      expect(before, after, change, change.name, true, true);
      if (*before.find_column(change.name) == *after.find_column(change.name)) {
        mismatch(before, change, "column '" + change.name + "' is the same before and after");
      }
      break;
  }
}

namespace {
// Calls found(name, end) for each identifier of sqltext (bare or quoted; not in a string or
// blob literal, a comment or a number), `end` the index after it, until found returns true.
template <class F>
bool find_identifier(std::string_view sqltext, F found) {
  std::size_t i = 0;
  while (i < sqltext.size()) {
    const char c = sqltext[i];
    const char next = i + 1 < sqltext.size() ? sqltext[i + 1] : '\0';
    if (c == '\'') {
      i = skip_quoted(sqltext, i, '\'', nullptr);
    } else if ((c == 'x' || c == 'X') && next == '\'') {  // blob literal X'..'
      i = skip_quoted(sqltext, i + 1, '\'', nullptr);
    } else if (c == '-' && next == '-') {
      const std::size_t end = sqltext.find('\n', i);
      i = end == std::string_view::npos ? sqltext.size() : end + 1;
    } else if (c == '/' && next == '*') {
      const std::size_t end = sqltext.find("*/", i + 2);
      i = end == std::string_view::npos ? sqltext.size() : end + 2;
    } else if (c == '"' || c == '`' || c == '[') {
      std::string quoted;
      i = skip_quoted(sqltext, i, c == '[' ? ']' : c, &quoted);
      if (found(std::string_view(quoted), i)) return true;
    } else if (std::isdigit(static_cast<unsigned char>(c)) != 0) {  // 1e5 is no identifier
      while (i < sqltext.size() && (is_identifier_char(sqltext[i]) || sqltext[i] == '.')) ++i;
    } else if (is_identifier_char(c)) {
      const std::size_t start = i;
      while (i < sqltext.size() && is_identifier_char(sqltext[i])) ++i;
      if (found(sqltext.substr(start, i - start), i)) return true;
    } else {
      ++i;
    }
  }
  return false;
}
}  // namespace

bool mentions_identifier(std::string_view sqltext, std::string_view name) {
  return find_identifier(sqltext, [&](std::string_view id, std::size_t) {
    return same_ignoring_case(id, name);
  });
}

bool qualifies_by(std::string_view sqltext, std::string_view table) {
  return find_identifier(sqltext, [&](std::string_view id, std::size_t end) {
    if (!same_ignoring_case(id, table)) return false;
    while (end < sqltext.size() && std::isspace(static_cast<unsigned char>(sqltext[end])) != 0)
      ++end;
    return end < sqltext.size() && sqltext[end] == '.';
  });
}

}  // namespace ddl

AlterPlan Dialect::alter_table_sql(const schema::Table& before, const schema::Table& after,
                                   const TableChange& change) const {
  using K = TableChange::Kind;
  ddl::check_change(before, after, change);
  const std::string alter = "ALTER TABLE " + quote(before.name) + " ";
  const std::string not_valid =
      change.not_valid && constraints_not_valid() ? std::string(" NOT VALID") : std::string();
  AlterPlan plan;
  std::vector<std::string>& out = plan.statements;
  switch (change.kind) {
    case K::rename_table:
      if (table_names_ignore_case() && change.new_name != before.name &&
          ddl::same_ignoring_case(change.new_name, before.name)) {
        // SQLite refuses "user" to "User": "there is already another table ... User".
        const std::string step = change.new_name + "_strata_renaming";
        out.push_back(alter + "RENAME TO " + quote(step));
        out.push_back("ALTER TABLE " + quote(step) + " RENAME TO " + quote(change.new_name));
      } else {
        out.push_back(alter + "RENAME TO " + quote(change.new_name));
      }
      break;
    case K::add_column:
      out.push_back(alter + "ADD COLUMN " + column_sql(after, *after.find_column(change.name)));
      break;
    case K::drop_column: out.push_back(alter + "DROP COLUMN " + quote(change.name)); break;
    case K::rename_column: {
      // The new name as the migrations' state writes it into the table's checks (quoted when
      // it is any backend's keyword): SQLite puts it into their text as this statement spells
      // it, and db check compares the two.
      std::string to = quote(change.new_name);
      if (to.front() != '"' && keyword_of_any_backend(change.new_name)) to = '"' + to + '"';
      out.push_back(alter + "RENAME COLUMN " + quote(change.name) + " TO " + to);
      break;
    }
    case K::alter_column: {
      const schema::Column& old_column = *before.find_column(change.name);
      const schema::Column& new_column = *after.find_column(change.name);
      const bool autoincrement_changes = old_column.autoincrement != new_column.autoincrement;
      const auto autoincrement = autoincrement_changes
                                     ? autoincrement_change_sql(after, change.name,
                                                                new_column.autoincrement)
                                     : std::nullopt;
      if (ddl::in_primary_key(before, change.name) != ddl::in_primary_key(after, change.name) ||
          (autoincrement_changes && !autoincrement)) {
        throw CompileError("alter_column on table '" + before.name + "': " + std::string(name()) +
                           " cannot change whether column '" + change.name +
                           "' is (an autoincrement) part of the primary key with ALTER COLUMN");
      }
      // An identity goes before a type change it would not allow, and comes after one.
      if (autoincrement && !new_column.autoincrement)
        out.insert(out.end(), autoincrement->begin(), autoincrement->end());
      const std::string column = alter + "ALTER COLUMN " + quote(change.name) + " ";
      // A conversion that needs USING is one the database does not do by itself, and it
      // refuses the type change while the column has a default it cannot convert the same
      // way (PostgreSQL: "default for column cannot be cast automatically"): the default is
      // dropped first and set again after.
      const std::string using_ =
          type_change_using(change.name, old_column.type, new_column.type);
      const bool default_in_the_way = old_column.type != new_column.type && !using_.empty() &&
                                      old_column.server_default.has_value();
      if (default_in_the_way) out.push_back(column + "DROP DEFAULT");
      if (old_column.type != new_column.type) {
        out.push_back(column + "TYPE " + type_sql(new_column.type) + using_);
        plan.rewrite = type_change_rewrites(old_column.type, new_column.type);
      }
      // A primary key column is NOT NULL whatever its flag says (column_sql writes it so).
      const bool was_not_null = !old_column.nullable || ddl::in_primary_key(before, change.name);
      const bool is_not_null = !new_column.nullable || ddl::in_primary_key(after, change.name);
      if (was_not_null != is_not_null) {
        out.push_back(column + (is_not_null ? "SET NOT NULL" : "DROP NOT NULL"));
      }
      if (default_in_the_way) {
        if (new_column.server_default) {
          out.push_back(column + "SET DEFAULT " + default_sql(new_column));
        }
      } else if (old_column.server_default != new_column.server_default) {
        out.push_back(column + (new_column.server_default
                                    ? "SET DEFAULT " + default_sql(new_column)
                                    : std::string("DROP DEFAULT")));
      }
      if (autoincrement && new_column.autoincrement)
        out.insert(out.end(), autoincrement->begin(), autoincrement->end());
      break;
    }
    case K::create_index:
      out.push_back(ddl::create_index_sql(*this, after,
                                          *ddl::find_named(after.indexes, change.name),
                                          change.concurrently && indexes_concurrently()));
      break;
    case K::drop_index:
      out.push_back(std::string(change.concurrently && indexes_concurrently()
                                    ? "DROP INDEX CONCURRENTLY "
                                    : "DROP INDEX ") +
                    quote(change.name));
      break;
    case K::add_unique:
      out.push_back(alter + "ADD " + ddl::constraint_prefix(*this, change.name) +
                    ddl::unique_body(*this, *ddl::find_named(after.uniques, change.name)));
      break;
    case K::add_foreign_key:
      out.push_back(
          alter + "ADD " + ddl::constraint_prefix(*this, change.name) +
          ddl::foreign_key_body(*this, *ddl::find_named(after.foreign_keys, change.name)) +
          not_valid);
      break;
    case K::add_check:
      out.push_back(alter + "ADD " + ddl::constraint_prefix(*this, change.name) +
                    ddl::check_body(*ddl::find_named(after.checks, change.name)) + not_valid);
      break;
    case K::validate_constraint:  // nothing to do where every constraint is added valid
      if (constraints_not_valid())
        out.push_back(alter + "VALIDATE CONSTRAINT " + quote(change.name));
      break;
    case K::drop_unique:
    case K::drop_foreign_key:
    case K::drop_check: out.push_back(alter + "DROP CONSTRAINT " + quote(change.name)); break;
    case K::rename_constraint:
      out.push_back(alter + "RENAME CONSTRAINT " + quote(change.name) + " TO " +
                    quote(change.new_name));
      break;
  }
  // Empty only for an alter_column whose DDL is unchanged (e.g. the nullable flag of a
  // primary key column, which is NOT NULL either way): nothing to run.
  return plan;
}

}  // namespace strata::dialect
