// Drift (`db check`): the chain's schema at the database's revision against the reflected live
// schema. Both sides are brought to the form reflection yields (Dialect::reflected_form), the
// differences compare() cannot express as operations (primary keys) are reported and aligned,
// and compare() — autogenerate's differ — finds the rest; each operation it emits, from the
// chain towards the database, becomes one line.
#include "strata/migrate/drift.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "strata/migrate/compare.hpp"
#include "strata/migrate/runtime.hpp"

#include "ops_text.hpp"

namespace strata::migrate {

namespace {

using schema::CheckConstraint;
using schema::Column;
using schema::ForeignKey;
using schema::Index;
using schema::Table;
using schema::UniqueConstraint;

struct Line {
  std::string table;
  std::string text;
};

// Names given to the database's unnamed constraints, so compare() can match by name; they
// are shown by definition only.
const std::string unnamed_prefix = "\x01unnamed ";

bool is_unnamed(const std::string& name) { return name.rfind(unnamed_prefix, 0) == 0; }

std::string columns_text(const std::vector<std::string>& columns) {
  return "(" + detail::join_names(columns) + ")";
}

std::string definition(const Index& ix) {
  return columns_text(ix.columns) + (ix.unique ? " unique" : "");
}
std::string definition(const UniqueConstraint& uq) { return columns_text(uq.columns); }
std::string definition(const ForeignKey& fk) {
  std::string s = columns_text(fk.columns) + " -> " + fk.referred_table + " " +
                  columns_text(fk.referred_columns);
  if (fk.on_delete != schema::ReferentialAction::no_action)
    s += " ON DELETE " + std::string(schema::to_sql(fk.on_delete));
  if (fk.on_update != schema::ReferentialAction::no_action)
    s += " ON UPDATE " + std::string(schema::to_sql(fk.on_update));
  return s;
}
// Whether text is one parenthesized group, as PostgreSQL returns most conditions.
bool parenthesized(const std::string& text) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') return false;
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')' && --depth == 0 && i + 1 < text.size()) return false;
  }
  return true;
}
std::string definition(const CheckConstraint& ck) {
  return parenthesized(ck.sqltext) ? ck.sqltext : "(" + ck.sqltext + ")";
}

const char* kind_of(const Index&) { return "index"; }
const char* kind_of(const UniqueConstraint&) { return "unique constraint"; }
const char* kind_of(const ForeignKey&) { return "foreign key"; }
const char* kind_of(const CheckConstraint&) { return "check constraint"; }

template <class C>
std::string item(const C& c) {
  if (is_unnamed(c.name)) return std::string("unnamed ") + kind_of(c) + " " + definition(c);
  return std::string(kind_of(c)) + " '" + c.name + "' " + definition(c);
}

template <class C>
void name_unnamed(std::vector<C>& items) {
  std::set<std::string> used;
  for (C& c : items) {
    if (!c.name.empty()) continue;
    std::string name = unnamed_prefix + definition(c);
    while (!used.insert(name).second) name += "'";
    c.name = std::move(name);
  }
}

const Table* find(const std::vector<Table>& tables, const std::string& name) {
  for (const Table& t : tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string key_text(const schema::PrimaryKey& pk) {
  if (pk.columns.empty()) return "none";
  return (pk.name.empty() ? std::string("unnamed") : "'" + pk.name + "'") + " " +
         columns_text(pk.columns);
}

// Reports a primary-key difference, then gives both tables the key of the columns they share
// (compare() does not change keys, and may only drop or add columns outside them).
void align_keys(Table& expected, Table& actual, std::vector<Line>& lines) {
  if (expected.primary_key == actual.primary_key) return;
  lines.push_back({expected.name, "table '" + expected.name + "': primary key is " +
                                      key_text(expected.primary_key) + " in the migrations but " +
                                      key_text(actual.primary_key) + " in the database"});
  schema::PrimaryKey shared{expected.primary_key.name, {}};
  for (const std::string& c : expected.primary_key.columns) {
    const auto& live = actual.primary_key.columns;
    if (actual.find_column(c) && std::find(live.begin(), live.end(), c) != live.end())
      shared.columns.push_back(c);
  }
  for (Table* t : {&expected, &actual}) {
    t->primary_key = shared;
    for (Column& c : t->columns) {
      c.primary_key = std::find(shared.columns.begin(), shared.columns.end(), c.name) !=
                      shared.columns.end();
    }
  }
}

// What the dialect says the database rewrites is compared in its comparable_sql() form: where
// both sides mean the same, the database's text is replaced by the chain's; where they differ,
// the database's stays, to be shown as the database has it.
void relax(const Table& expected, Table& actual, const dialect::Dialect& d) {
  const dialect::ReflectionSupport support = d.reflection_support();
  if (!support.check_text) {
    for (CheckConstraint& ck : actual.checks) {
      for (const CheckConstraint& e : expected.checks) {
        if (e.name == ck.name && d.comparable_sql(e.sqltext) == d.comparable_sql(ck.sqltext))
          ck.sqltext = e.sqltext;
      }
    }
  }
  if (!support.server_default_text) {
    for (Column& c : actual.columns) {
      const Column* e = expected.find_column(c.name);
      if (e && e->server_default && c.server_default &&
          d.comparable_sql(*e->server_default) == d.comparable_sql(*c.server_default))
        c.server_default = e->server_default;
    }
  }
}

std::string default_text(const Column& c) {
  return c.server_default ? "default " + *c.server_default : std::string("no default");
}

void column_lines(const dialect::Dialect& d, const AlterColumnOp& op, std::vector<Line>& lines) {
  const Column& was = op.before;  // the chain's
  const Column& is = op.after;    // the database's
  const std::string head = "table '" + op.table + "': column '" + was.name + "' ";
  if (!(was.type == is.type)) {
    lines.push_back({op.table, head + "is " + d.type_sql(was.type) + " in the migrations but " +
                                   d.type_sql(is.type) + " in the database"});
  }
  if (was.nullable != is.nullable) {
    lines.push_back({op.table, head + "is " + (was.nullable ? "nullable" : "NOT NULL") +
                                   " in the migrations but " +
                                   (is.nullable ? "nullable" : "NOT NULL") + " in the database"});
  }
  if (was.server_default != is.server_default) {
    lines.push_back({op.table, head + "has " + default_text(was) + " in the migrations but " +
                                   default_text(is) + " in the database"});
  }
  if (was.autoincrement != is.autoincrement) {
    lines.push_back({op.table, head + "is " + (was.autoincrement ? "" : "not ") +
                                   "autoincrement in the migrations but " +
                                   (is.autoincrement ? "" : "not ") + "in the database"});
  }
}

const std::string in_db = " is in the database but not in the migrations";
const std::string in_chain = " is in the migrations but not in the database";

// Lines for the operations that turn the chain into the database. A drop and an add of the
// same name make one "differs" line.
std::vector<Line> op_lines(const dialect::Dialect& d, const std::vector<Operation>& ops) {
  std::set<std::string> whole;  // tables only on one side: one line each
  for (const Operation& op : ops) {
    if (auto* c = std::get_if<CreateTableOp>(&op)) whole.insert(c->table.name);
    if (auto* dr = std::get_if<DropTableOp>(&op)) whole.insert(dr->table.name);
  }
  std::vector<Line> lines;
  // Dropped items by (table, name), waiting for an add of the same name.
  struct Dropped {
    std::string table, name, kind, text, definition;
    bool matched = false;
  };
  std::vector<Dropped> dropped;
  auto drop = [&](const std::string& table, const auto& c) {
    dropped.push_back({table, c.name, kind_of(c), item(c), definition(c)});
  };
  auto add = [&](const std::string& table, const auto& c) {
    for (Dropped& x : dropped) {
      if (!x.matched && x.table == table && x.name == c.name && x.kind == kind_of(c) &&
          !is_unnamed(c.name)) {
        x.matched = true;
        lines.push_back({table, "table '" + table + "': " + x.kind + " '" + c.name + "' is " +
                                    x.definition + " in the migrations but " + definition(c) +
                                    " in the database"});
        return;
      }
    }
    lines.push_back({table, "table '" + table + "': " + item(c) + in_db});
  };
  for (const Operation& op : ops) {
    std::visit(
        [&](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, CreateTableOp>) {
            lines.push_back({o.table.name, "table '" + o.table.name + "'" + in_db});
          } else if constexpr (std::is_same_v<T, DropTableOp>) {
            lines.push_back({o.table.name, "table '" + o.table.name + "'" + in_chain});
          } else if constexpr (std::is_same_v<T, ExecuteOp> || std::is_same_v<T, CallOp> ||
                               std::is_same_v<T, RenameTableOp> ||
                               std::is_same_v<T, RenameColumnOp> ||
                               std::is_same_v<T, RenameConstraintOp> ||
                               std::is_same_v<T, ValidateConstraintOp>) {
            // compare() emits none of these (renames: confirm_rename says no; the primary
            // keys' names were aligned above)
          } else if (whole.count(o.table)) {
            // part of a table reported whole
          } else if constexpr (std::is_same_v<T, AddColumnOp>) {
            lines.push_back({o.table, "table '" + o.table + "': column '" + o.column.name + "'" + in_db});
          } else if constexpr (std::is_same_v<T, DropColumnOp>) {
            lines.push_back({o.table, "table '" + o.table + "': column '" + o.column.name + "'" + in_chain});
          } else if constexpr (std::is_same_v<T, AlterColumnOp>) {
            column_lines(d, o, lines);
          } else if constexpr (std::is_same_v<T, CreateIndexOp>) {
            add(o.table, o.index);
          } else if constexpr (std::is_same_v<T, DropIndexOp>) {
            drop(o.table, o.index);
          } else if constexpr (std::is_same_v<T, AddUniqueOp>) {
            add(o.table, o.constraint);
          } else if constexpr (std::is_same_v<T, DropUniqueOp>) {
            drop(o.table, o.constraint);
          } else if constexpr (std::is_same_v<T, AddForeignKeyOp>) {
            add(o.table, o.foreign_key);
          } else if constexpr (std::is_same_v<T, DropForeignKeyOp>) {
            drop(o.table, o.foreign_key);
          } else if constexpr (std::is_same_v<T, AddCheckOp>) {
            add(o.table, o.check);
          } else if constexpr (std::is_same_v<T, DropCheckOp>) {
            drop(o.table, o.check);
          }
        },
        op);
  }
  for (const Dropped& x : dropped) {
    if (!x.matched) lines.push_back({x.table, "table '" + x.table + "': " + x.text + in_chain});
  }
  return lines;
}

}  // namespace

std::vector<std::string> drift(const SchemaState& chain, const dialect::ReflectedSchema& live,
                               const dialect::Dialect& d) {
  std::vector<Table> expected;
  for (const Table& t : chain.tables()) expected.push_back(canonical(d.reflected_form(t)));
  std::vector<Table> actual;
  std::vector<Line> lines;
  for (const Table& t : live.tables) {
    if (t.name == Ledger::table_name) continue;
    if (t.columns.empty()) {
      // PostgreSQL has tables without columns (CREATE TABLE x ()), which no migration can
      // describe: reported here, and left out of the comparison, whose fold refuses them.
      const auto known = std::find_if(expected.begin(), expected.end(),
                                      [&](const Table& e) { return e.name == t.name; });
      if (known == expected.end()) {
        lines.push_back({t.name, "table '" + t.name + "'" + in_db});
      } else {
        lines.push_back({t.name, "table '" + t.name + "' has no columns in the database"});
        expected.erase(known);
      }
      continue;
    }
    Table copy = t;
    name_unnamed(copy.indexes);
    name_unnamed(copy.uniques);
    name_unnamed(copy.foreign_keys);
    name_unnamed(copy.checks);
    actual.push_back(canonical(std::move(copy)));
  }

  for (Table& t : actual) {
    for (Table& e : expected) {
      if (e.name != t.name) continue;
      align_keys(e, t, lines);
      relax(e, t, d);
    }
  }

  SchemaState from;
  // Only a report: what the chain's own fold accepted, and what the database holds, are
  // compared as they are, not refused (the checks that protect a run do not apply).
  from.set_checks(SchemaState::Checks::replay);
  for (const Table& t : expected) from.apply(CreateTableOp{t});
  CompareOptions options;
  options.confirm_rename = [](const RenameCandidate&) { return false; };  // drop + add
  const CompareResult result = compare(from, actual, options);
  for (Line& l : op_lines(d, result.upgrade)) lines.push_back(std::move(l));

  for (const dialect::ReflectionProblem& p : live.problems) {
    if (p.table == Ledger::table_name) continue;
    if (find(actual, p.table) && !find(expected, p.table)) continue;  // the table is one line
    lines.push_back({p.table, "table '" + p.table + "': " + p.message});
  }

  std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
    return a.table != b.table ? a.table < b.table : a.text < b.text;
  });
  std::vector<std::string> out;
  out.reserve(lines.size());
  for (Line& l : lines) out.push_back(std::move(l.text));
  return out;
}

}  // namespace strata::migrate
