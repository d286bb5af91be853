// The fold: SchemaState::apply turns a chain of operations into the schema they describe, with
// no database. `db migrate` compares the models with it; compare() applies its own output to
// a copy as it goes. Every check runs before anything changes, so a failed apply changes
// nothing. What is checked is listed in state.hpp.
#include "strata/migrate/state.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "strata/dialect/dialect.hpp"
#include "strata/migrate/errors.hpp"
#include "strata/sql/compiler.hpp"

#include "ops_text.hpp"

namespace strata::migrate {

namespace {

using schema::CheckConstraint;
using schema::Column;
using schema::ForeignKey;
using schema::Index;
using schema::Table;
using schema::UniqueConstraint;

using Tables = std::vector<Table>;

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

[[noreturn]] void fail(const Operation& op, const std::string& why) {
  throw StateError(describe(op) + ": " + why);
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

template <class C>
void sort_by_name(std::vector<C>& items) {
  std::stable_sort(items.begin(), items.end(),
                   [](const C& a, const C& b) { return a.name < b.name; });
}

template <class C>
void insert_by_name(std::vector<C>& items, C item) {
  auto at = std::upper_bound(items.begin(), items.end(), item,
                             [](const C& a, const C& b) { return a.name < b.name; });
  items.insert(at, std::move(item));
}

template <class Items>
auto find_by_name(Items& items, std::string_view name) {
  using C = typename std::remove_const_t<Items>::value_type;
  return std::find_if(items.begin(), items.end(), [&](const C& c) { return c.name == name; });
}

Tables::iterator find_table(Tables& tables, std::string_view name) {
  return std::find_if(tables.begin(), tables.end(), [&](const Table& t) { return t.name == name; });
}

Table& require_table(Tables& tables, std::string_view name, const Operation& op) {
  auto it = find_table(tables, name);
  if (it == tables.end()) fail(op, "there is no table " + quoted(name));
  return *it;
}

std::size_t column_index(const Table& t, std::string_view name) {
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    if (t.columns[i].name == name) return i;
  }
  return t.columns.size();
}

// What in t is called name ("index 'ix_user_email'"), or "" when nothing is: constraint and
// index names share one namespace per table.
std::string object_named(const Table& t, std::string_view name) {
  if (!t.primary_key.name.empty() && t.primary_key.name == name) {
    return "primary key " + quoted(name);
  }
  for (const Index& ix : t.indexes) {
    if (ix.name == name) return "index " + quoted(name);
  }
  for (const UniqueConstraint& uq : t.uniques) {
    if (uq.name == name) return "unique constraint " + quoted(name);
  }
  for (const ForeignKey& fk : t.foreign_keys) {
    if (fk.name == name) return "foreign key " + quoted(name);
  }
  for (const CheckConstraint& ck : t.checks) {
    if (ck.name == name) return "check constraint " + quoted(name);
  }
  return {};
}

// Index names are unique in the whole database (SQLite and PostgreSQL alike).
void require_free_index_name(const Tables& tables, std::string_view name, const Operation& op) {
  for (const Table& t : tables) {
    for (const Index& ix : t.indexes) {
      if (ix.name == name)
        fail(op, "table " + quoted(t.name) + " already has an index named " + quoted(name) +
                     "; index names are database-wide");
    }
  }
}

// What in t is called `name`. A primary key, an index and a unique constraint are indexes to
// PostgreSQL (relations, whose names are database-wide).
enum class Named { nothing, primary_key, index, unique, foreign_key, check };
Named kind_named(const Table& t, std::string_view name) {
  if (!t.primary_key.name.empty() && t.primary_key.name == name) return Named::primary_key;
  if (find_by_name(t.indexes, name) != t.indexes.end()) return Named::index;
  if (find_by_name(t.uniques, name) != t.uniques.end()) return Named::unique;
  if (find_by_name(t.foreign_keys, name) != t.foreign_keys.end()) return Named::foreign_key;
  if (find_by_name(t.checks, name) != t.checks.end()) return Named::check;
  return Named::nothing;
}
bool is_relation(Named n) {
  return n == Named::primary_key || n == Named::index || n == Named::unique;
}

// A primary key or unique constraint called `name` of table `owner` (which may not be in
// tables yet): PostgreSQL makes an index of each, under the constraint's name, and index names
// are database-wide, so the name must not be another table's index, primary key or unique
// constraint. (SQLite does not mind; the migrations stay portable.)
void require_free_relation_name(const Tables& tables, const std::string& owner,
                                 std::string_view name, const Operation& op) {
  for (const Table& t : tables) {
    if (t.name == owner) continue;
    const Named taken = kind_named(t, name);
    if (!is_relation(taken)) continue;
    fail(op, "table " + quoted(t.name) + " already has " + object_named(t, name) +
                 "; PostgreSQL makes an index of every primary key and unique constraint, and "
                 "index names are database-wide" +
                 (taken == Named::primary_key
                      ? " (a table renamed by rename_table keeps its primary key's name: "
                        "rename_constraint renames it)"
                      : ""));
  }
}

// A new constraint or index called `name` of kind `what` fits in t.
void require_new_object(const Table& t, std::string_view what, std::string_view name,
                        const Operation& op) {
  if (name.empty()) {
    fail(op, "the " + std::string(what) +
                 " has no name; every constraint and index is named "
                 "(by the naming convention when the model gives none)");
  }
  const std::string taken = object_named(t, name);
  if (!taken.empty()) fail(op, "table " + quoted(t.name) + " already has " + taken);
}

void require_columns(const Table& t, const std::vector<std::string>& columns,
                     std::string_view used_by, const Operation& op) {
  if (columns.empty()) fail(op, "the " + std::string(used_by) + " names no columns");
  for (const std::string& c : columns) {
    if (!t.find_column(c)) {
      fail(op, "the " + std::string(used_by) + " names column " + quoted(c) + ", which table " +
                   quoted(t.name) + " does not have");
    }
  }
}

void require_foreign_key_shape(const ForeignKey& fk, const Operation& op) {
  if (fk.referred_table.empty()) fail(op, "the foreign key names no referred table");
  if (fk.referred_columns.size() != fk.columns.size()) {
    fail(op, "the foreign key has " + std::to_string(fk.columns.size()) +
                 " columns but refers to " + std::to_string(fk.referred_columns.size()));
  }
}

// A removed thing must be exactly what the state holds, or its reverse would restore
// something else.
template <class C>
C& require_same(std::vector<C>& items, const C& wanted, std::string_view what,
                const std::string& table, const Operation& op) {
  auto it = find_by_name(items, wanted.name);
  if (it == items.end()) {
    fail(op, "table " + quoted(table) + " has no " + std::string(what) + " named " +
                 quoted(wanted.name));
  }
  if (!(*it == wanted)) {
    fail(op, "the " + std::string(what) + " " + quoted(wanted.name) + " of table " + quoted(table) +
                 " differs from the definition the operation carries; the "
                 "operation does not fit this schema (was it edited, or written for another "
                 "revision?)");
  }
  return *it;
}

// The first thing that differs between two definitions of a table, for DropTableOp's error.
std::string first_difference(const Table& state, const Table& op) {
  const std::size_t n = std::min(state.columns.size(), op.columns.size());
  for (std::size_t i = 0; i < n; ++i) {
    const Column& a = state.columns[i];
    const Column& b = op.columns[i];
    if (a == b) continue;
    if (a.name != b.name) {
      return "column " + std::to_string(i + 1) + " is " + quoted(a.name) + " in the state and " +
             quoted(b.name) + " in the operation";
    }
    return "column " + quoted(a.name) + " is " + detail::column_summary(a) + " in the state and " +
           detail::column_summary(b) + " in the operation";
  }
  if (state.columns.size() != op.columns.size()) {
    return "the state has " + std::to_string(state.columns.size()) + " columns and the operation " +
           std::to_string(op.columns.size());
  }
  if (!(state.primary_key == op.primary_key)) return "the primary keys differ";
  if (state.indexes != op.indexes) return "the indexes differ";
  if (state.uniques != op.uniques) return "the unique constraints differ";
  if (state.foreign_keys != op.foreign_keys) return "the foreign keys differ";
  return "the check constraints differ";
}

bool mentions_column(std::string_view sql, std::string_view table, const std::string& column);

// What in t uses column `name` in a way that forbids dropping it ("index 'ix_user_email'").
std::string user_of_column(const Table& t, const std::string& name) {
  auto uses = [&](const std::vector<std::string>& columns) {
    return std::find(columns.begin(), columns.end(), name) != columns.end();
  };
  if (uses(t.primary_key.columns)) return "the primary key";
  for (const Index& ix : t.indexes) {
    if (uses(ix.columns)) return "index " + quoted(ix.name);
  }
  for (const UniqueConstraint& uq : t.uniques) {
    if (uses(uq.columns)) return "unique constraint " + quoted(uq.name);
  }
  for (const ForeignKey& fk : t.foreign_keys) {
    if (uses(fk.columns)) return "foreign key " + quoted(fk.name);
  }
  return {};
}

// The first check constraint of t that names column `name`, or null.
const CheckConstraint* check_naming(const Table& t, const std::string& name) {
  for (const CheckConstraint& ck : t.checks)
    if (mentions_column(ck.sqltext, t.name, name)) return &ck;
  return nullptr;
}

void rename_in(std::vector<std::string>& columns, const std::string& from, const std::string& to) {
  std::replace(columns.begin(), columns.end(), from, to);
}

bool identifier_start(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalpha(u) != 0 || c == '_' || u >= 0x80;
}
bool identifier_char(char c) {
  return identifier_start(c) || std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '$';
}
bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Whether a bare name that follows `before` (the text so far) is a type's: after the AS of a
// CAST, or after PostgreSQL's `::`. A check's condition has no other AS.
bool names_a_type(std::string_view before) {
  std::size_t end = before.size();
  while (end > 0 && std::isspace(static_cast<unsigned char>(before[end - 1])) != 0) --end;
  before = before.substr(0, end);
  if (before.ends_with("::")) return true;
  if (end < 2 || !same_ignoring_case(before.substr(end - 2), "as")) return false;
  return end == 2 || !identifier_char(before[end - 3]);
}

// name in double quotes ("" for a " inside), as SQLite writes an identifier that needs them.
std::string double_quoted(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + '"';
}

// The end of the string literal ('' inside) that starts at sql[i].
std::size_t end_of_literal(std::string_view sql, std::size_t i) {
  std::size_t end = i + 1;
  while (end < sql.size() && !(sql[end] == '\'' && (end + 1 >= sql.size() || sql[end + 1] != '\'')))
    end += sql[end] == '\'' ? 2 : 1;
  return std::min(end + 1, sql.size());
}

// The end of the "quoted" name that starts at sql[i]; its text ("" inside read as ") goes to
// name.
std::size_t read_quoted_name(std::string_view sql, std::size_t i, std::string& name) {
  std::size_t end = i + 1;
  while (end < sql.size()) {
    if (sql[end] == '"') {
      if (end + 1 < sql.size() && sql[end + 1] == '"') {
        name += '"';
        end += 2;
        continue;
      }
      return end + 1;
    }
    name += sql[end++];
  }
  return end;
}

// The SQL condition text with column `from` of `table` renamed `to`, as the database does
// with a check constraint when the column is renamed: bare names (any case) and "quoted"
// names, alone or qualified by the table's name; string literals, other tables' columns,
// function names (a name followed by '(') and type names (CAST(x AS date), x::date) are left
// alone. `to` is written as SQLite writes it: quoted where the old name was quoted, and
// everywhere when the RENAME COLUMN quoted it, that is when it is not a lower-case identifier
// (sql::is_lower_identifier, the dialects' own rule: qty$1 and größe are quoted) or is a
// keyword of any backend (order, group, user), else bare. (PostgreSQL reads either the same.)
std::string rename_in_sql(std::string_view sql, std::string_view table, const std::string& from,
                          const std::string& to) {
  const bool plain = sql::is_lower_identifier(to) && !dialect::keyword_of_any_backend(to);
  const std::string quoted_to = double_quoted(to);
  std::string out;
  std::string qualifier;  // the name just before a '.', if any
  for (std::size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    std::string name;
    std::size_t end = i;
    if (c == '\'') {
      end = end_of_literal(sql, i);
      out.append(sql.substr(i, end - i));
      qualifier.clear();
      i = end;
      continue;
    }
    bool quoted_name = false;
    if (c == '"') {
      quoted_name = true;
      end = read_quoted_name(sql, i, name);
    } else if (identifier_start(c)) {
      while (end < sql.size() && identifier_char(sql[end])) ++end;
      name = std::string(sql.substr(i, end - i));
    } else {
      out += c;
      if (c != '.') qualifier.clear();
      ++i;
      continue;
    }
    const bool qualified = !out.empty() && out.back() == '.';
    const bool ours = !qualified || qualifier == table;
    const bool match = quoted_name ? name == from : same_ignoring_case(name, from);
    const bool followed_by_dot = end < sql.size() && sql[end] == '.';
    std::size_t after = end;
    while (after < sql.size() && std::isspace(static_cast<unsigned char>(sql[after])) != 0) ++after;
    const bool function_name = after < sql.size() && sql[after] == '(';  // length(title)
    const bool type = !quoted_name && names_a_type(out);  // CAST(x AS date), x::date
    if (match && ours && !followed_by_dot && !function_name && !type) {
      // As SQLite's RENAME COLUMN writes it: quoted where the name was, or where the new
      // name needs it (then RENAME COLUMN spells it so, and SQLite quotes it everywhere).
      out += quoted_name || !plain ? quoted_to : to;
    } else {
      out.append(sql.substr(i, end - i));
    }
    qualifier = followed_by_dot ? name : std::string();
    i = end;
  }
  return out;
}

// The SQL condition text with the qualifier `from` (from.x, "from".x) made `to`, as SQLite's
// RENAME TO writes it into the renamed table's checks: quoted ("to".x). String literals are
// left alone. (PostgreSQL keeps no qualifier; it reads either form the same.)
std::string rename_qualifier_in_sql(std::string_view sql, std::string_view from,
                                    const std::string& to) {
  const std::string quoted_to = double_quoted(to);
  std::string out;
  for (std::size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    std::size_t end = i + 1;
    std::string name;
    bool quoted_name = false;
    if (c == '\'') {
      end = end_of_literal(sql, i);
    } else if (c == '"') {
      quoted_name = true;
      end = read_quoted_name(sql, i, name);
    } else if (identifier_start(c)) {
      end = i;
      while (end < sql.size() && identifier_char(sql[end])) ++end;
      name = std::string(sql.substr(i, end - i));
    }
    const bool qualifier = !name.empty() && end < sql.size() && sql[end] == '.' &&
                           (out.empty() || out.back() != '.');
    if (qualifier && (quoted_name ? name == from : same_ignoring_case(name, from)))
      out += quoted_to;
    else
      out.append(sql.substr(i, end - i));
    i = end;
  }
  return out;
}

// Whether the SQL condition names column `column` of `table`, as rename_in_sql() reads it.
bool mentions_column(std::string_view sql, std::string_view table, const std::string& column) {
  return rename_in_sql(sql, table, column, column + '\x01') != sql;
}

void validate_new_table(const Tables& tables, const Table& t, const Operation& op) {
  if (t.name.empty()) fail(op, "the table has no name");
  for (const Table& other : tables) {
    if (other.name == t.name) fail(op, "table " + quoted(t.name) + " already exists");
  }
  if (t.columns.empty()) fail(op, "the table has no columns");
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    const Column& c = t.columns[i];
    if (c.name.empty()) fail(op, "column " + std::to_string(i + 1) + " has no name");
    if (column_index(t, c.name) != i) fail(op, "two columns are named " + quoted(c.name));
    const auto& pk = t.primary_key.columns;
    if (c.primary_key != (std::find(pk.begin(), pk.end(), c.name) != pk.end())) {
      fail(op, "column " + quoted(c.name) + (c.primary_key ? " is" : " is not") +
                   " marked primary_key but the table's primary key" +
                   (c.primary_key ? " does not list it" : " lists it"));
    }
  }
  if (!t.primary_key.columns.empty()) require_columns(t, t.primary_key.columns, "primary key", op);

  std::vector<std::string> names;
  if (!t.primary_key.name.empty()) names.push_back(t.primary_key.name);
  auto named = [&](std::string_view what, const std::string& name) {
    if (name.empty()) {
      fail(op, "the table has an unnamed " + std::string(what) +
                   "; every constraint and "
                   "index is named (by the naming convention when the model gives none)");
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      fail(op, "two constraints or indexes are named " + quoted(name));
    }
    names.push_back(name);
  };
  for (const Index& ix : t.indexes) {
    named("index", ix.name);
    require_columns(t, ix.columns, "index " + quoted(ix.name), op);
    require_free_index_name(tables, ix.name, op);
  }
  for (const UniqueConstraint& uq : t.uniques) {
    named("unique constraint", uq.name);
    require_columns(t, uq.columns, "unique constraint " + quoted(uq.name), op);
  }
  for (const ForeignKey& fk : t.foreign_keys) {
    named("foreign key", fk.name);
    require_columns(t, fk.columns, "foreign key " + quoted(fk.name), op);
    require_foreign_key_shape(fk, op);
  }
  for (const CheckConstraint& ck : t.checks) named("check constraint", ck.name);
}

// Each apply_op() checks everything first, then changes the state.

// Whether t keeps `columns` unique: its primary key, a unique constraint or a unique index
// has exactly those columns (in any order). A foreign key must refer to such columns:
// PostgreSQL refuses one that does not, and SQLite accepts it and then refuses every write to
// the referring table ("foreign key mismatch").
bool keeps_unique(const Table& t, const std::vector<std::string>& columns) {
  std::vector<std::string> wanted = columns;
  std::sort(wanted.begin(), wanted.end());
  auto same = [&](std::vector<std::string> cs) {
    std::sort(cs.begin(), cs.end());
    return cs == wanted;
  };
  if (!t.primary_key.columns.empty() && same(t.primary_key.columns)) return true;
  for (const UniqueConstraint& uq : t.uniques) {
    if (same(uq.columns)) return true;
  }
  for (const Index& ix : t.indexes) {
    if (ix.unique && same(ix.columns)) return true;
  }
  return false;
}

std::string column_list(const std::vector<std::string>& columns) {
  std::string out;
  for (const std::string& c : columns) out += (out.empty() ? "" : ", ") + c;
  return "(" + out + ")";
}

// A new foreign key refers to columns its referred table keeps unique, when that table is
// known: `self` is the table the key belongs to (it may refer to itself), not yet in tables.
void require_unique_target(const Tables& tables, const Table& self, const ForeignKey& fk,
                           const Operation& op) {
  const Table* parent = fk.referred_table == self.name ? &self : nullptr;
  for (const Table& t : tables) {
    if (!parent && t.name == fk.referred_table) parent = &t;
  }
  if (!parent) return;  // created later (a cycle), or outside the migrations
  for (const std::string& c : fk.referred_columns) {
    if (!parent->find_column(c)) {
      fail(op, "foreign key " + quoted(fk.name) + " refers to column " + quoted(c) +
                   ", which table " + quoted(parent->name) + " does not have");
    }
  }
  if (!keeps_unique(*parent, fk.referred_columns)) {
    fail(op, "foreign key " + quoted(fk.name) + " refers to " + column_list(fk.referred_columns) +
                 " of table " + quoted(parent->name) +
                 ", which is neither its primary key nor unique (PostgreSQL refuses such a key, "
                 "and SQLite then refuses every write to " + quoted(self.name) +
                 "); refer to the primary key or add a unique constraint first");
  }
}

// The unique constraint or index `name` of t cannot be dropped while a foreign key refers to
// exactly its columns: PostgreSQL ties the key to one such index when the key is made (and
// refuses the drop even when another index would do), and SQLite would be left without a
// unique target for it.
void require_no_dependent_key(const Tables& tables, const Table& t,
                              const std::vector<std::string>& columns, std::string_view what,
                              const Operation& op) {
  std::vector<std::string> wanted = columns;
  std::sort(wanted.begin(), wanted.end());
  for (const Table& other : tables) {
    for (const ForeignKey& fk : other.foreign_keys) {
      if (fk.referred_table != t.name) continue;
      std::vector<std::string> referred = fk.referred_columns;
      std::sort(referred.begin(), referred.end());
      if (referred != wanted) continue;
      fail(op, "foreign key " + quoted(fk.name) + " of table " + quoted(other.name) +
                   " refers to " + column_list(fk.referred_columns) + ", which this " +
                   std::string(what) + " makes unique; drop that foreign key first (and add it "
                   "again after, if something else keeps those columns unique)");
    }
  }
}

void apply_op(Tables& tables, const CreateTableOp& o, const Operation& op,
              bool check_references) {
  validate_new_table(tables, o.table, op);
  if (check_references) {
    if (!o.table.primary_key.name.empty())
      require_free_relation_name(tables, o.table.name, o.table.primary_key.name, op);
    for (const UniqueConstraint& uq : o.table.uniques)
      require_free_relation_name(tables, o.table.name, uq.name, op);
    for (const Index& ix : o.table.indexes)
      require_free_relation_name(tables, o.table.name, ix.name, op);
    for (const ForeignKey& fk : o.table.foreign_keys) require_unique_target(tables, o.table, fk, op);
  }
  insert_by_name(tables, canonical(o.table));
}

void apply_op(Tables& tables, const DropTableOp& o, const Operation& op,
              bool check_references) {
  const Table& t = require_table(tables, o.table.name, op);
  const Table carried = canonical(o.table);
  if (!(t == carried)) {
    fail(op, "the definition the operation carries differs from the state's table (" +
                 first_difference(t, carried) + "); the operation does not fit this schema");
  }
  // PostgreSQL refuses to drop a table that a foreign key refers to; SQLite, with foreign
  // keys on, drops it after an implicit DELETE that cascades to (or nulls, or fails on) the
  // rows referring to it. Neither is what the operation means: the reference goes first.
  for (const Table& other : tables) {
    if (!check_references) break;
    if (other.name == o.table.name) continue;  // a table referring to itself goes with it
    for (const ForeignKey& fk : other.foreign_keys) {
      if (fk.referred_table == o.table.name) {
        fail(op, "foreign key " + quoted(fk.name) + " of table " + quoted(other.name) +
                     " refers to it; drop that foreign key (or table " + quoted(other.name) +
                     ") first");
      }
    }
  }
  tables.erase(find_table(tables, o.table.name));
}

void apply_op(Tables& tables, const RenameTableOp& o, const Operation& op) {
  require_table(tables, o.old_name, op);
  if (o.new_name.empty()) fail(op, "the new name is empty");
  if (find_table(tables, o.new_name) != tables.end()) {
    fail(op, "table " + quoted(o.new_name) + " already exists");
  }
  for (Table& t : tables) {
    for (ForeignKey& fk : t.foreign_keys) {
      if (fk.referred_table == o.old_name) fk.referred_table = o.new_name;
    }
  }
  auto it = find_table(tables, o.old_name);
  Table renamed = std::move(*it);
  tables.erase(it);
  renamed.name = o.new_name;
  for (CheckConstraint& ck : renamed.checks)
    ck.sqltext = rename_qualifier_in_sql(ck.sqltext, o.old_name, o.new_name);
  insert_by_name(tables, std::move(renamed));
}

void apply_op(Tables& tables, const AddColumnOp& o, const Operation& op) {
  Table& t = require_table(tables, o.table, op);
  if (o.column.name.empty()) fail(op, "the column has no name");
  if (t.find_column(o.column.name)) {
    fail(op, "table " + quoted(t.name) + " already has column " + quoted(o.column.name));
  }
  if (o.column.primary_key) {
    fail(op,
         "adding a primary key column is not supported; create a new table with the "
         "primary key and copy the rows with an execute operation");
  }
  const std::size_t at = o.position.value_or(t.columns.size());
  if (at > t.columns.size()) {
    fail(op, "position " + std::to_string(at) + " is past the end of table " + quoted(t.name) +
                 ", which has " + std::to_string(t.columns.size()) + " columns");
  }
  t.columns.insert(t.columns.begin() + static_cast<std::ptrdiff_t>(at), o.column);
}

void apply_op(Tables& tables, const DropColumnOp& o, const Operation& op,
              bool check_references) {
  Table& t = require_table(tables, o.table, op);
  const std::size_t at = column_index(t, o.column.name);
  if (at == t.columns.size()) {
    fail(op, "table " + quoted(t.name) + " has no column " + quoted(o.column.name));
  }
  if (!(t.columns[at] == o.column)) {
    fail(op, "the state's column is " + detail::column_summary(t.columns[at]) +
                 " but the operation carries " + detail::column_summary(o.column) +
                 "; the operation does not fit this schema");
  }
  if (o.position && *o.position != at) {
    fail(op, "the column is at position " + std::to_string(at) + ", not " +
                 std::to_string(*o.position) + " as the operation records");
  }
  const std::string user = user_of_column(t, o.column.name);
  if (user == "the primary key") {
    fail(op,
         "the column is part of the primary key; dropping a primary key column is not "
         "supported");
  }
  if (!user.empty()) fail(op, "the column is used by " + user + "; drop that first");
  // PostgreSQL drops a check naming the column with it, SQLite's rebuild would refuse the
  // table: refused before it runs. A migration that ran so (on PostgreSQL) took the check with
  // it, and its replay does the same.
  if (const CheckConstraint* ck = check_naming(t, o.column.name)) {
    if (check_references) {
      fail(op, "the column is used by check constraint " + quoted(ck->name) + "; drop that first");
    }
    std::erase_if(t.checks, [&](const CheckConstraint& c) {
      return mentions_column(c.sqltext, t.name, o.column.name);
    });
  }
  // SQLite would drop it and leave the other table's foreign key referring to nothing.
  for (const Table& other : tables) {
    if (!check_references) break;
    for (const ForeignKey& fk : other.foreign_keys) {
      if (fk.referred_table == t.name &&
          std::find(fk.referred_columns.begin(), fk.referred_columns.end(), o.column.name) !=
              fk.referred_columns.end()) {
        fail(op, "foreign key " + quoted(fk.name) + " of table " + quoted(other.name) +
                     " refers to the column; drop that first");
      }
    }
  }
  t.columns.erase(t.columns.begin() + static_cast<std::ptrdiff_t>(at));
}

void apply_op(Tables& tables, const RenameColumnOp& o, const Operation& op) {
  Table& t = require_table(tables, o.table, op);
  if (!t.find_column(o.old_name)) {
    fail(op, "table " + quoted(t.name) + " has no column " + quoted(o.old_name));
  }
  if (o.new_name.empty()) fail(op, "the new name is empty");
  if (t.find_column(o.new_name)) {
    fail(op, "table " + quoted(t.name) + " already has column " + quoted(o.new_name));
  }
  t.columns[column_index(t, o.old_name)].name = o.new_name;
  rename_in(t.primary_key.columns, o.old_name, o.new_name);
  for (Index& ix : t.indexes) rename_in(ix.columns, o.old_name, o.new_name);
  for (UniqueConstraint& uq : t.uniques) rename_in(uq.columns, o.old_name, o.new_name);
  for (ForeignKey& fk : t.foreign_keys) rename_in(fk.columns, o.old_name, o.new_name);
  // SQLite and PostgreSQL rename the column inside check conditions too.
  for (CheckConstraint& ck : t.checks) ck.sqltext = rename_in_sql(ck.sqltext, t.name, o.old_name, o.new_name);
  for (Table& other : tables) {
    for (ForeignKey& fk : other.foreign_keys) {
      if (fk.referred_table == o.table) rename_in(fk.referred_columns, o.old_name, o.new_name);
    }
  }
}

void apply_op(Tables& tables, const AlterColumnOp& o, const Operation& op) {
  Table& t = require_table(tables, o.table, op);
  if (o.before.name != o.after.name) {
    fail(op, "'before' and 'after' name different columns (" + quoted(o.before.name) + ", " +
                 quoted(o.after.name) + "); rename a column with rename_column");
  }
  const std::size_t at = column_index(t, o.before.name);
  if (at == t.columns.size()) {
    fail(op, "table " + quoted(t.name) + " has no column " + quoted(o.before.name));
  }
  if (!(t.columns[at] == o.before)) {
    fail(op, "the state's column is " + detail::column_summary(t.columns[at]) +
                 " but the operation's 'before' is " + detail::column_summary(o.before) +
                 "; the operation does not fit this schema");
  }
  if (o.before.primary_key != o.after.primary_key) {
    fail(op, "changing whether a column is part of the primary key is not supported");
  }
  t.columns[at] = o.after;
}

void apply_op(Tables& tables, const CreateIndexOp& o, const Operation& op,
              bool check_references) {
  Table& t = require_table(tables, o.table, op);
  require_new_object(t, "index", o.index.name, op);
  require_free_index_name(tables, o.index.name, op);
  if (check_references) require_free_relation_name(tables, t.name, o.index.name, op);
  require_columns(t, o.index.columns, "index", op);
  insert_by_name(t.indexes, o.index);
}

void apply_op(Tables& tables, const DropIndexOp& o, const Operation& op,
              bool check_references) {
  Table& t = require_table(tables, o.table, op);
  require_same(t.indexes, o.index, "index", t.name, op);
  if (check_references && o.index.unique)
    require_no_dependent_key(tables, t, o.index.columns, "unique index", op);
  t.indexes.erase(find_by_name(t.indexes, o.index.name));
}

void apply_op(Tables& tables, const AddUniqueOp& o, const Operation& op,
              bool check_references) {
  Table& t = require_table(tables, o.table, op);
  require_new_object(t, "unique constraint", o.constraint.name, op);
  if (check_references) require_free_relation_name(tables, t.name, o.constraint.name, op);
  require_columns(t, o.constraint.columns, "unique constraint", op);
  insert_by_name(t.uniques, o.constraint);
}

void apply_op(Tables& tables, const DropUniqueOp& o, const Operation& op,
              bool check_references) {
  Table& t = require_table(tables, o.table, op);
  require_same(t.uniques, o.constraint, "unique constraint", t.name, op);
  if (check_references)
    require_no_dependent_key(tables, t, o.constraint.columns, "unique constraint", op);
  t.uniques.erase(find_by_name(t.uniques, o.constraint.name));
}

void apply_op(Tables& tables, const AddForeignKeyOp& o, const Operation& op,
              bool check_references) {
  Table& t = require_table(tables, o.table, op);
  require_new_object(t, "foreign key", o.foreign_key.name, op);
  require_columns(t, o.foreign_key.columns, "foreign key", op);
  require_foreign_key_shape(o.foreign_key, op);
  if (check_references) require_unique_target(tables, t, o.foreign_key, op);
  insert_by_name(t.foreign_keys, o.foreign_key);
}

void apply_op(Tables& tables, const DropForeignKeyOp& o, const Operation& op) {
  Table& t = require_table(tables, o.table, op);
  require_same(t.foreign_keys, o.foreign_key, "foreign key", t.name, op);
  t.foreign_keys.erase(find_by_name(t.foreign_keys, o.foreign_key.name));
}

void apply_op(Tables& tables, const AddCheckOp& o, const Operation& op) {
  Table& t = require_table(tables, o.table, op);
  require_new_object(t, "check constraint", o.check.name, op);
  if (o.check.sqltext.empty()) fail(op, "the check constraint has no condition");
  insert_by_name(t.checks, o.check);
}

void apply_op(Tables& tables, const DropCheckOp& o, const Operation& op,
              bool check_references) {
  Table& t = require_table(tables, o.table, op);
  // Replayed, the check is known by its name: a history written when a column rename also
  // renamed a function of that name in the condition's text carries that text.
  if (check_references || find_by_name(t.checks, o.check.name) == t.checks.end())
    require_same(t.checks, o.check, "check constraint", t.name, op);
  t.checks.erase(find_by_name(t.checks, o.check.name));
}

void apply_op(Tables& tables, const RenameConstraintOp& o, const Operation& op,
              bool check_references) {
  Table& t = require_table(tables, o.table, op);
  const Named what = o.old_name.empty() ? Named::nothing : kind_named(t, o.old_name);
  if (what == Named::nothing) {
    fail(op, "table " + quoted(t.name) + " has no constraint named " + quoted(o.old_name));
  }
  if (what == Named::index) {
    fail(op, quoted(o.old_name) +
                 " is an index, not a constraint; drop it and create it under the new name");
  }
  if (o.new_name == o.old_name) fail(op, "the new name is the old one");
  require_new_object(t, "constraint", o.new_name, op);
  if (is_relation(what)) {
    require_free_index_name(tables, o.new_name, op);
    if (check_references) require_free_relation_name(tables, t.name, o.new_name, op);
  }
  if (t.primary_key.name == o.old_name) t.primary_key.name = o.new_name;
  auto rename_in = [&](auto& items) {
    for (auto& item : items) {
      if (item.name == o.old_name) item.name = o.new_name;
    }
    sort_by_name(items);
  };
  rename_in(t.uniques);
  rename_in(t.foreign_keys);
  rename_in(t.checks);
}

// Changes nothing; the constraint must be one that can be added not valid.
void apply_op(Tables& tables, const ValidateConstraintOp& o, const Operation& op) {
  const Table& t = require_table(tables, o.table, op);
  const Named what = o.name.empty() ? Named::nothing : kind_named(t, o.name);
  if (what == Named::foreign_key || what == Named::check) return;
  if (what == Named::nothing) {
    std::string elsewhere;
    for (const Table& other : tables) {
      const Named there = kind_named(other, o.name);
      if (there == Named::foreign_key || there == Named::check) {
        elsewhere = " (table " + quoted(other.name) + " has " + object_named(other, o.name) + ")";
        break;
      }
    }
    fail(op, "table " + quoted(t.name) + " has no foreign key or check constraint named " +
                 quoted(o.name) + elsewhere);
  }
  fail(op, "validate_constraint takes a foreign key or check constraint; table " + quoted(t.name) +
               " has " + object_named(t, o.name) + ", which is checked in full when it is made");
}

void apply_op(Tables&, const ExecuteOp&, const Operation&) {}
void apply_op(Tables&, const CallOp&, const Operation&) {}

// Refuses a name that op gives longer than schema::max_identifier_length, which PostgreSQL
// would cut short; on every backend, so that the migration runs on all of them.
void require_short_names(const Operation& op) {
  std::optional<schema::LongName> long_name;
  auto check = [&](const char* what, const std::string& name) {
    if (name.size() > schema::max_identifier_length) long_name = schema::LongName{what, name};
  };
  std::visit(
      Overloaded{[&](const CreateTableOp& o) { long_name = schema::name_too_long(o.table); },
                 [&](const RenameTableOp& o) { check("table", o.new_name); },
                 [&](const AddColumnOp& o) { check("column", o.column.name); },
                 [&](const RenameColumnOp& o) { check("column", o.new_name); },
                 [&](const CreateIndexOp& o) { check("index", o.index.name); },
                 [&](const AddUniqueOp& o) { check("unique constraint", o.constraint.name); },
                 [&](const AddForeignKeyOp& o) { check("foreign key", o.foreign_key.name); },
                 [&](const AddCheckOp& o) { check("check constraint", o.check.name); },
                 [&](const RenameConstraintOp& o) { check("constraint", o.new_name); },
                 [](const auto&) {}},
      op);
  if (long_name) fail(op, schema::too_long_text(*long_name) + "; give it a shorter name");
}

}  // namespace

schema::Table canonical(schema::Table t) {
  sort_by_name(t.indexes);
  sort_by_name(t.uniques);
  sort_by_name(t.foreign_keys);
  sort_by_name(t.checks);
  return t;
}

void SchemaState::apply(const Operation& op) {
  if (checks_ == Checks::run) require_short_names(op);
  std::visit(
      [&](const auto& o) {
        using O = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<O, CreateTableOp> || std::is_same_v<O, DropTableOp> ||
                      std::is_same_v<O, DropColumnOp> || std::is_same_v<O, DropIndexOp> ||
                      std::is_same_v<O, CreateIndexOp> || std::is_same_v<O, AddUniqueOp> ||
                      std::is_same_v<O, DropUniqueOp> ||
                      std::is_same_v<O, AddForeignKeyOp> || std::is_same_v<O, DropCheckOp> ||
                      std::is_same_v<O, RenameConstraintOp>)
          apply_op(tables_, o, op, checks_ == Checks::run);
        else
          apply_op(tables_, o, op);
      },
      op);
}

void SchemaState::apply(const std::vector<Operation>& ops) {
  for (const Operation& op : ops) apply(op);
}

const schema::Table* SchemaState::find(std::string_view table) const {
  for (const schema::Table& t : tables_) {
    if (t.name == table) return &t;
  }
  return nullptr;
}

}  // namespace strata::migrate
