// PostgreSQL reflection: the tables of the connection's current schema read back from
// pg_catalog — columns (type, NOT NULL, default, identity), the primary key, unique, foreign-key
// and check constraints with their names, and the indexes that back no constraint. Only the
// engine's Connection interface is used: four queries, whatever the number of tables.
#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postgresql.hpp"

namespace strata::dialect::postgresql {
namespace {

// Lists of names come back joined by this character (chr(31)), which no sane identifier holds.
constexpr char separator = '\x1f';

std::vector<std::string> split_names(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    out.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

// The names of column lists: array_to_string(ARRAY(attname ... in key order), chr(31)).
std::string names_of(std::string_view keys, std::string_view relation) {
  return "array_to_string(ARRAY(SELECT a.attname FROM unnest(" + std::string(keys) +
         ") WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a ON a.attrelid = " +
         std::string(relation) + " AND a.attnum = k.attnum ORDER BY k.ord), chr(31))";
}

schema::ReferentialAction action_of(std::string_view code) {
  using A = schema::ReferentialAction;
  if (code == "r") return A::restrict;
  if (code == "c") return A::cascade;
  if (code == "n") return A::set_null;
  if (code == "d") return A::set_default;
  return A::no_action;
}

// The condition of "CHECK ((length((body)::text) > 0))": what is inside CHECK ( ... ); a
// constraint added NOT VALID has those words after it.
std::string check_condition(std::string_view def) {
  constexpr std::string_view head = "CHECK (";
  constexpr std::string_view not_valid = " NOT VALID";
  if (def.ends_with(not_valid)) def.remove_suffix(not_valid.size());
  if (def.starts_with(head) && def.ends_with(')')) {
    def.remove_prefix(head.size());
    def.remove_suffix(1);
  }
  return std::string(def);
}

// The server's spelling of a TIMESTAMP or TIME default written as an ISO 8601 literal, as the
// connection's DateStyle ISO prints it back: '2020-01-01' as '2020-01-01 00:00:00', '10:00' as
// '10:00:00', a T as a space, a fraction without its trailing zeros. Any other literal: none
// (db check compares it as written).
std::optional<std::string> server_spelling(schema::TypeKind kind, std::string_view literal) {
  if (literal.size() < 2 || literal.front() != '\'' || literal.back() != '\'') return std::nullopt;
  std::string_view s = literal.substr(1, literal.size() - 2);
  auto digits = [&](std::size_t n, int max) -> std::optional<std::string> {
    if (s.size() < n) return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      value = value * 10 + (s[i] - '0');
    }
    if (value > max) return std::nullopt;
    std::string out(s.substr(0, n));
    s.remove_prefix(n);
    return out;
  };
  auto take = [&](char c) {
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
  };
  std::string out;
  if (kind == schema::TypeKind::datetime) {
    const auto year = digits(4, 9999);
    if (!year || *year == "0000" || !take('-')) return std::nullopt;
    const auto month = digits(2, 12);
    if (!month || *month == "00" || !take('-')) return std::nullopt;
    const auto day = digits(2, 31);
    if (!day || *day == "00") return std::nullopt;
    out = *year + "-" + *month + "-" + *day + " ";
    if (s.empty()) return "'" + out + "00:00:00'";
    if (!take(' ') && !take('T')) return std::nullopt;
  } else if (kind != schema::TypeKind::time) {
    return std::nullopt;
  }
  const auto hour = digits(2, 23);
  if (!hour || !take(':')) return std::nullopt;
  const auto minute = digits(2, 59);
  if (!minute) return std::nullopt;
  out += *hour + ":" + *minute + ":";
  if (s.empty()) return "'" + out + "00'";
  if (!take(':')) return std::nullopt;
  const auto second = digits(2, 59);
  if (!second) return std::nullopt;
  out += *second;
  if (take('.')) {
    // Up to microseconds, which the server keeps exactly; more it would round.
    if (s.empty() || s.size() > 6 ||
        s.find_first_not_of("0123456789") != std::string_view::npos)
      return std::nullopt;
    const std::size_t last = s.find_last_not_of('0');
    if (last != std::string_view::npos) out += "." + std::string(s.substr(0, last + 1));
  } else if (!s.empty()) {
    return std::nullopt;
  }
  return "'" + out + "'";
}

}  // namespace

ReflectedSchema PgDialect::reflect(engine::Connection& conn) const {
  ReflectedSchema out;
  std::map<std::string, schema::Table> tables;
  std::map<std::string, std::vector<std::string>> problems;
  auto problem = [&](const std::string& table, std::string message) {
    problems[table].push_back(std::move(message));
  };

  // Columns, in each table's order; a table with no columns still has a row (LEFT JOIN).
  auto columns = conn.prepare(
      "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
      "pg_get_expr(d.adbin, d.adrelid), a.attidentity "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
      "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() "
      "ORDER BY c.relname, a.attnum");
  while (columns->step()) {
    const std::string table(columns->get_text(0));
    schema::Table& t = tables[table];
    t.name = table;
    if (columns->is_null(1)) continue;
    schema::Column c;
    c.name = std::string(columns->get_text(1));
    const std::string type(columns->get_text(2));
    c.nullable = columns->get_int64(3) == 0;
    if (!columns->is_null(4)) c.server_default = std::string(columns->get_text(4));
    const std::string identity(columns->get_text(5));
    if (!identity.empty()) c.autoincrement = true;
    if (c.server_default && c.server_default->starts_with("nextval(")) {
      c.autoincrement = true;  // serial
      c.server_default.reset();
    }
    if (auto kind = type_of_sql(type)) {
      c.type = *kind;
    } else {
      problem(table, "column '" + c.name + "' has type '" + type +
                         "', which strata does not write; read as TEXT");
      c.type = schema::Type{schema::TypeKind::text, std::nullopt};
    }
    t.columns.push_back(std::move(c));
  }

  // Primary key, unique, foreign-key and check constraints.
  auto constraints = conn.prepare(
      "SELECT cl.relname, con.conname, con.contype, " + names_of("con.conkey", "con.conrelid") +
      ", coalesce(f.relname, ''), " + names_of("con.confkey", "con.confrelid") +
      ", con.confdeltype, con.confupdtype, pg_get_constraintdef(con.oid), "
      "con.convalidated::int "
      "FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid "
      "JOIN pg_namespace n ON n.oid = cl.relnamespace "
      "LEFT JOIN pg_class f ON f.oid = con.confrelid "
      "WHERE n.nspname = current_schema() AND cl.relkind IN ('r', 'p') "
      "ORDER BY cl.relname, con.conname");
  while (constraints->step()) {
    const std::string table(constraints->get_text(0));
    auto it = tables.find(table);
    if (it == tables.end()) continue;
    schema::Table& t = it->second;
    std::string name(constraints->get_text(1));
    const std::string_view type = constraints->get_text(2);
    std::vector<std::string> cols = split_names(constraints->get_text(3));
    if ((type == "f" || type == "c") && constraints->get_int64(9) == 0)
      out.not_valid.push_back({table, name});
    if (type == "p") {
      t.primary_key.name = std::move(name);
      t.primary_key.columns = cols;
      for (auto& c : t.columns)
        if (std::find(cols.begin(), cols.end(), c.name) != cols.end()) c.primary_key = true;
    } else if (type == "u") {
      t.uniques.push_back({std::move(name), std::move(cols)});
    } else if (type == "f") {
      schema::ForeignKey fk;
      fk.name = std::move(name);
      fk.columns = std::move(cols);
      fk.referred_table = std::string(constraints->get_text(4));
      fk.referred_columns = split_names(constraints->get_text(5));
      fk.on_delete = action_of(constraints->get_text(6));
      fk.on_update = action_of(constraints->get_text(7));
      t.foreign_keys.push_back(std::move(fk));
    } else if (type == "c") {
      t.checks.push_back({std::move(name), check_condition(constraints->get_text(8))});
    } else {
      problem(table, "constraint '" + name + "' is of a kind strata does not write (" +
                         std::string(constraints->get_text(8)) + ")");
    }
  }

  // Indexes made by CREATE INDEX: those that back no constraint.
  auto indexes = conn.prepare(
      "SELECT t.relname, i.relname, ix.indisunique, " +
      names_of("ix.indkey::int2[]", "ix.indrelid") +
      ", ix.indexprs IS NOT NULL OR ix.indpred IS NOT NULL, pg_get_indexdef(ix.indexrelid) "
      "FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid "
      "JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
      "WHERE n.nspname = current_schema() AND t.relkind IN ('r', 'p') AND NOT EXISTS "
      "(SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid AND "
      "con.conrelid = ix.indrelid AND con.contype IN ('p', 'u', 'x')) "
      "ORDER BY t.relname, i.relname");
  while (indexes->step()) {
    const std::string table(indexes->get_text(0));
    auto it = tables.find(table);
    if (it == tables.end()) continue;
    std::string name(indexes->get_text(1));
    if (indexes->get_int64(4) != 0) {
      problem(table, "index '" + name + "' is on expressions or partial (" +
                         std::string(indexes->get_text(5)) + "); left out");
      continue;
    }
    it->second.indexes.push_back(
        {std::move(name), split_names(indexes->get_text(3)), indexes->get_int64(2) != 0});
  }

  for (auto& [name, t] : tables) {
    for (auto& m : problems[name]) out.problems.push_back({name, std::move(m)});
    out.tables.push_back(std::move(t));  // std::map: sorted by name
  }
  return out;
}

// format_type()'s spelling -> the type strata writes as that, where it writes it.
std::optional<schema::Type> PgDialect::type_of_sql(std::string_view type) const {
  using K = schema::TypeKind;
  constexpr std::string_view varchar = "character varying(";
  if (type.starts_with(varchar) && type.ends_with(')')) {
    const std::string digits(type.substr(varchar.size(), type.size() - varchar.size() - 1));
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    return schema::Type{K::string, std::stoi(digits)};
  }
  static const std::map<std::string_view, K> names{
      {"integer", K::integer},        {"bigint", K::big_integer},
      {"smallint", K::small_integer}, {"double precision", K::float_},
      {"boolean", K::boolean},        {"text", K::text},
      {"bytea", K::blob},             {"date", K::date},
      {"time without time zone", K::time},
      {"timestamp without time zone", K::datetime}};
  const auto it = names.find(type);
  if (it == names.end()) return std::nullopt;
  // The canonical form reflected_form() gives: the first kind spelled the same (TEXT is both
  // String without length and Text).
  return reflected_form_type(schema::Type{it->second, std::nullopt});
}

schema::Table PgDialect::reflected_form(const schema::Table& t) const {
  schema::Table out = Dialect::reflected_form(t);
  for (schema::Column& c : out.columns) {
    if (!c.server_default) continue;
    if (c.type.kind == schema::TypeKind::boolean) {
      if (*c.server_default == "0") c.server_default = "false";
      if (*c.server_default == "1") c.server_default = "true";
    } else if (auto spelled = server_spelling(c.type.kind, *c.server_default)) {
      c.server_default = std::move(*spelled);
    }
  }
  return out;
}

schema::Type PgDialect::reflected_form_type(const schema::Type& t) const {
  schema::Table probe;
  probe.name = "t";
  schema::Column c;
  c.name = "c";
  c.type = t;
  probe.columns.push_back(c);
  return Dialect::reflected_form(probe).columns.front().type;
}

}  // namespace strata::dialect::postgresql
