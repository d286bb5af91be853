// The schema's plain data helpers (type names, referential actions, column lookup) and
// MetaData: the checked, named set of tables that create_all() and the migrations start from.
#include "strata/schema/table.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "strata/error.hpp"

namespace strata::schema {

std::string to_string(const Type& t) {
  switch (t.kind) {
    case TypeKind::integer: return "Integer";
    case TypeKind::big_integer: return "BigInteger";
    case TypeKind::small_integer: return "SmallInteger";
    case TypeKind::float_: return "Float";
    case TypeKind::boolean: return "Boolean";
    case TypeKind::string:
      return t.length ? "String(" + std::to_string(*t.length) + ")" : std::string("String");
    case TypeKind::text: return "Text";
    case TypeKind::blob: return "Blob";
    case TypeKind::date: return "Date";
    case TypeKind::time: return "Time";
    case TypeKind::datetime: return "DateTime";
  }
  return "Unknown";
}

std::string_view to_sql(ReferentialAction a) {
  switch (a) {
    case ReferentialAction::no_action: return "NO ACTION";
    case ReferentialAction::restrict: return "RESTRICT";
    case ReferentialAction::cascade: return "CASCADE";
    case ReferentialAction::set_null: return "SET NULL";
    case ReferentialAction::set_default: return "SET DEFAULT";
  }
  return "NO ACTION";
}

const Column* Table::find_column(std::string_view column_name) const {
  for (const Column& c : columns) {
    if (c.name == column_name) return &c;
  }
  return nullptr;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

namespace {


// "table 't' has no column 'x'; did you mean 'y'?" (the hint only for a close name).
std::string no_such_column(const Table& t, std::string_view name, std::string_view used_by) {
  std::string msg = std::string(used_by) + " on table '" + t.name + "' names column '" +
                    std::string(name) + "', which the table does not have";
  const Column* best = nullptr;
  std::size_t best_distance = std::max<std::size_t>(2, name.size() / 3) + 1;
  for (const Column& c : t.columns) {
    const std::size_t d = edit_distance(name, c.name);
    if (d < best_distance) {
      best = &c;
      best_distance = d;
    }
  }
  if (best) msg += "; did you mean '" + best->name + "'?";
  return msg;
}

void check_columns(const Table& t, const std::vector<std::string>& names,
                   std::string_view used_by) {
  if (names.empty()) {
    throw ArgumentError(std::string(used_by) + " on table '" + t.name + "' has no columns");
  }
  for (const std::string& n : names) {
    if (!t.find_column(n)) throw ArgumentError(no_such_column(t, n, used_by));
  }
}

// Rejects tables that no DDL could create: unnamed things, duplicate columns, constraints on
// columns the table lacks, a primary key flag that disagrees with the primary key.
void validate(const Table& t) {
  if (t.name.empty()) throw ArgumentError("a table needs a name");
  if (t.columns.empty()) throw ArgumentError("table '" + t.name + "' has no columns");
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    const Column& c = t.columns[i];
    if (c.name.empty()) {
      throw ArgumentError("column " + std::to_string(i + 1) + " of table '" + t.name +
                          "' has no name");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (t.columns[j].name == c.name) {
        throw ArgumentError("table '" + t.name + "' has two columns named '" + c.name + "'");
      }
    }
  }
  const auto& pk = t.primary_key.columns;
  if (!pk.empty()) {
    check_columns(t, pk, "the primary key");
    for (const Column& c : t.columns) {
      if (c.primary_key && std::find(pk.begin(), pk.end(), c.name) == pk.end()) {
        throw ArgumentError("column '" + c.name + "' of table '" + t.name +
                            "' is marked primary_key but the table's primary key does not "
                            "list it; list it in Table::primary_key.columns or unmark it");
      }
    }
  }
  for (const Index& ix : t.indexes) check_columns(t, ix.columns, "an index");
  for (const UniqueConstraint& uq : t.uniques) check_columns(t, uq.columns, "a unique constraint");
  for (const ForeignKey& fk : t.foreign_keys) {
    check_columns(t, fk.columns, "a foreign key");
    if (fk.referred_table.empty()) {
      throw ArgumentError("a foreign key on table '" + t.name + "' names no referred table");
    }
    if (fk.referred_columns.size() != fk.columns.size()) {
      throw ArgumentError("foreign key on table '" + t.name + "' has " +
                          std::to_string(fk.columns.size()) + " columns but refers to " +
                          std::to_string(fk.referred_columns.size()) + " columns of '" +
                          fk.referred_table + "'; give one referred column per column");
    }
  }
  for (const CheckConstraint& ck : t.checks) {
    if (ck.sqltext.empty()) {
      throw ArgumentError("check constraint '" + ck.name + "' on table '" + t.name +
                          "' has no condition");
    }
  }
}

// Both views of the primary key agree afterwards: the constraint's column list and the
// columns' primary_key flags.
void normalize_primary_key(Table& t) {
  auto& pk = t.primary_key.columns;
  if (pk.empty()) {
    for (const Column& c : t.columns) {
      if (c.primary_key) pk.push_back(c.name);
    }
  }
  for (Column& c : t.columns) {
    if (std::find(pk.begin(), pk.end(), c.name) != pk.end()) c.primary_key = true;
  }
}

// Every constraint and index name of t, in declaration order.
std::vector<const std::string*> object_names(const Table& t) {
  std::vector<const std::string*> out;
  if (!t.primary_key.name.empty()) out.push_back(&t.primary_key.name);
  for (const Index& ix : t.indexes) out.push_back(&ix.name);
  for (const UniqueConstraint& uq : t.uniques) out.push_back(&uq.name);
  for (const ForeignKey& fk : t.foreign_keys) out.push_back(&fk.name);
  for (const CheckConstraint& ck : t.checks) out.push_back(&ck.name);
  return out;
}

// The first part that differs between two definitions of a table, for the error message.
std::string first_difference(const Table& a, const Table& b) {
  const std::size_t n = std::min(a.columns.size(), b.columns.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (!(a.columns[i] == b.columns[i])) {
      return a.columns[i].name == b.columns[i].name
                 ? "column '" + a.columns[i].name + "' differs"
                 : "column " + std::to_string(i + 1) + " is '" + a.columns[i].name +
                       "' in one and '" + b.columns[i].name + "' in the other";
    }
  }
  if (a.columns.size() != b.columns.size()) return "the number of columns differs";
  if (!(a.primary_key == b.primary_key)) return "the primary key differs";
  if (a.indexes != b.indexes) return "the indexes differ";
  if (a.uniques != b.uniques) return "the unique constraints differ";
  if (a.foreign_keys != b.foreign_keys) return "the foreign keys differ";
  return "the check constraints differ";
}

}  // namespace

std::optional<LongName> name_too_long(const Table& t) {
  auto fits = [](const std::string& name) { return name.size() <= max_identifier_length; };
  if (!fits(t.name)) return LongName{"table", t.name};
  for (const Column& c : t.columns)
    if (!fits(c.name)) return LongName{"column", c.name};
  if (!fits(t.primary_key.name)) return LongName{"primary key", t.primary_key.name};
  for (const Index& ix : t.indexes)
    if (!fits(ix.name)) return LongName{"index", ix.name};
  for (const UniqueConstraint& uq : t.uniques)
    if (!fits(uq.name)) return LongName{"unique constraint", uq.name};
  for (const ForeignKey& fk : t.foreign_keys)
    if (!fits(fk.name)) return LongName{"foreign key", fk.name};
  for (const CheckConstraint& ck : t.checks)
    if (!fits(ck.name)) return LongName{"check constraint", ck.name};
  return std::nullopt;
}

std::string too_long_text(const LongName& n) {
  return n.what + " name '" + n.name + "' is " + std::to_string(n.name.size()) +
         " bytes long, past the limit of " + std::to_string(max_identifier_length) +
         " bytes (PostgreSQL's, which would cut it short)";
}

const Table& MetaData::add(Table t) {
  validate(t);
  normalize_primary_key(t);
  naming_.apply(t);
  if (const auto long_name = name_too_long(t)) {
    throw ArgumentError("table '" + t.name + "': " + too_long_text(*long_name) +
                        "; give it a shorter name");
  }

  if (const Table* existing = find(t.name)) {
    if (*existing == t) return *existing;
    throw ArgumentError("table '" + t.name + "' is already defined differently (" +
                        first_difference(*existing, t) +
                        "); define it once, or give the other table another name");
  }

  const std::vector<const std::string*> names = object_names(t);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i]->empty()) continue;
    for (std::size_t j = 0; j < i; ++j) {
      if (*names[j] == *names[i]) {
        throw ArgumentError("table '" + t.name + "' has two constraints or indexes named '" +
                            *names[i] + "'; give one of them another name");
      }
    }
  }
  // Index names share one namespace per database (SQLite and PostgreSQL alike).
  for (const Index& ix : t.indexes) {
    for (const Table& other : tables_) {
      for (const Index& taken : other.indexes) {
        if (taken.name == ix.name) {
          throw ArgumentError("index '" + ix.name + "' of table '" + t.name +
                              "' has the name of an index of table '" + other.name +
                              "'; index names must be unique in the database");
        }
      }
    }
  }

  tables_.push_back(std::move(t));
  return tables_.back();
}

const Table* MetaData::find(std::string_view name) const {
  for (const Table& t : tables_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::vector<const Table*> MetaData::sorted_tables() const {
  const std::size_t n = tables_.size();
  // parents[i]: indexes of the tables that table i refers to (known tables, not itself).
  std::vector<std::vector<std::size_t>> parents(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (const ForeignKey& fk : tables_[i].foreign_keys) {
      for (std::size_t j = 0; j < n; ++j) {
        if (j != i && tables_[j].name == fk.referred_table) parents[i].push_back(j);
      }
    }
  }

  std::vector<const Table*> out;
  out.reserve(n);
  std::vector<bool> placed(n, false);
  auto ready = [&](std::size_t i) {
    return std::all_of(parents[i].begin(), parents[i].end(),
                       [&](std::size_t p) { return placed[p]; });
  };
  // Each round places the first table in declaration order whose parents are all placed.
  while (out.size() < n) {
    std::size_t next = n;
    for (std::size_t i = 0; i < n && next == n; ++i) {
      if (!placed[i] && ready(i)) next = i;
    }
    if (next == n) break;
    placed[next] = true;
    out.push_back(&tables_[next]);
  }
  if (out.size() == n) return out;

  // Every unplaced table waits on another unplaced one; walking those waits from any of them
  // must come back to a table already seen: that loop is a cycle.
  std::size_t at = 0;
  while (placed[at]) ++at;
  std::vector<std::size_t> path;
  while (std::find(path.begin(), path.end(), at) == path.end()) {
    path.push_back(at);
    for (std::size_t p : parents[at]) {
      if (!placed[p]) {
        at = p;
        break;
      }
    }
  }
  std::string cycle;
  for (auto it = std::find(path.begin(), path.end(), at); it != path.end(); ++it) {
    cycle += "'" + tables_[*it].name + "' -> ";
  }
  cycle += "'" + tables_[at].name + "'";
  throw ArgumentError("foreign keys form a cycle between tables " + cycle +
                      "; sorted_tables() cannot order them (drop one of these foreign keys "
                      "or add it after both tables exist)");
}

}  // namespace strata::schema
