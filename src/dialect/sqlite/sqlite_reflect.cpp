// SQLite reflection: reads the live schema back into schema::Tables for `db check`. The
// structure comes from SQLite's pragmas (table_xinfo, index_list, index_info,
// foreign_key_list); what they do not keep — the names of the primary key and of unique,
// foreign-key and check constraints, and check conditions — from the CREATE TABLE text in
// sqlite_master (create_table_parser.cpp), matched to the pragmas' constraints by columns.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../ddl.hpp"
#include "create_table_parser.hpp"
#include "sqlite.hpp"

namespace strata::dialect::sqlite {

namespace {

std::string upper_without_spaces(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

bool same_names(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            ddl::same_ignoring_case);
}

constexpr schema::TypeKind kinds[] = {
    schema::TypeKind::integer, schema::TypeKind::big_integer, schema::TypeKind::small_integer,
    schema::TypeKind::float_,  schema::TypeKind::boolean,     schema::TypeKind::string,
    schema::TypeKind::text,    schema::TypeKind::blob,        schema::TypeKind::date,
    schema::TypeKind::time,    schema::TypeKind::datetime};

// The type whose type_sql() is `declared` (first kind in declaration order), if any.
std::optional<schema::Type> written_type(const SqliteDialect& d, std::string_view declared) {
  const std::string want = upper_without_spaces(declared);
  std::optional<int> length;
  const std::size_t open = want.find('(');
  if (open != std::string::npos && want.back() == ')') {
    const std::string digits = want.substr(open + 1, want.size() - open - 2);
    if (!digits.empty() && digits.size() < 9 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      length = std::stoi(digits);
    }
  }
  for (schema::TypeKind k : kinds) {
    if (length && upper_without_spaces(d.type_sql({k, length})) == want) return schema::Type{k, length};
    if (upper_without_spaces(d.type_sql({k, std::nullopt})) == want) return schema::Type{k, std::nullopt};
  }
  return std::nullopt;
}

// SQLite's type affinity rules (https://sqlite.org/datatype3.html, 3.1), for a declared type
// strata does not write.
schema::Type affinity_type(std::string_view declared) {
  const std::string t = upper_without_spaces(declared);
  auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
  if (has("INT")) return {schema::TypeKind::integer, std::nullopt};
  if (has("CHAR") || has("CLOB") || has("TEXT")) return {schema::TypeKind::text, std::nullopt};
  if (has("BLOB") || t.empty()) return {schema::TypeKind::blob, std::nullopt};
  return {schema::TypeKind::float_, std::nullopt};  // REAL, and NUMERIC affinity
}

class Reader {
 public:
  Reader(const SqliteDialect& d, engine::Connection& conn) : d_(d), conn_(conn) {}

  void table(const std::string& name, const std::string& sql, ReflectedSchema& out) {
    schema::Table t;
    t.name = name;
    auto problem = [&](std::string message) { out.problems.push_back({name, std::move(message)}); };
    const ParsedCreateTable parsed = parse_create_table(sql);
    if (!parsed.error.empty()) {
      problem("its CREATE TABLE text could not be read (" + parsed.error +
              "): constraint names and check constraints are missing");
    }
    columns(t, problem);
    for (schema::Column& c : t.columns) {  // the default as written, where the text says it
      for (const auto& [column, text] : parsed.defaults) {
        if (c.server_default && ddl::same_ignoring_case(column, c.name)) c.server_default = text;
      }
    }
    bool pk_index = false;
    indexes(t, parsed, pk_index, problem);
    foreign_keys(t, parsed, problem);
    t.primary_key.name = parsed.primary_key_name;
    t.checks = parsed.checks;
    // The rowid alias: a single-column primary key declared exactly INTEGER, in a rowid table
    // (which then has no index for its primary key). SQLite assigns it.
    if (t.primary_key.columns.size() == 1 && !pk_index && !parsed.without_rowid) {
      for (schema::Column& c : t.columns) {
        if (c.name == t.primary_key.columns.front() && integer_declared_.count(c.name)) {
          c.autoincrement = true;
        }
      }
    }
    auto by_name = [](const auto& a, const auto& b) { return a.name < b.name; };
    std::stable_sort(t.indexes.begin(), t.indexes.end(), by_name);
    std::stable_sort(t.uniques.begin(), t.uniques.end(), by_name);
    std::stable_sort(t.foreign_keys.begin(), t.foreign_keys.end(), by_name);
    std::stable_sort(t.checks.begin(), t.checks.end(), by_name);
    out.tables.push_back(std::move(t));
  }

 private:
  template <class Problem>
  void columns(schema::Table& t, Problem& problem) {
    integer_declared_.clear();
    auto stmt = conn_.prepare(
        "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?) "
        "ORDER BY cid");
    stmt->bind(0, Value{t.name});
    std::vector<std::pair<std::int64_t, std::string>> key;  // position in the key, column
    while (stmt->step()) {
      schema::Column c;
      c.name = std::string(stmt->get_text(0));
      const std::string declared(stmt->get_text(1));
      if (stmt->get_int64(5) != 0) {
        problem("column '" + c.name + "' is generated or hidden, which strata does not model; left out");
        continue;
      }
      if (auto written = written_type(d_, declared)) {
        c.type = *written;
      } else {
        c.type = affinity_type(declared);
        problem("column '" + c.name + "' has type '" + declared +
                "', which strata does not write; read as " + d_.type_sql(c.type));
      }
      if (upper_without_spaces(declared) == "INTEGER") integer_declared_.insert(c.name);
      c.nullable = stmt->get_int64(2) == 0;
      if (!stmt->is_null(3)) c.server_default = std::string(stmt->get_text(3));
      if (const std::int64_t position = stmt->get_int64(4); position > 0) {
        c.primary_key = true;
        key.emplace_back(position, c.name);
      }
      t.columns.push_back(std::move(c));
    }
    std::sort(key.begin(), key.end());
    for (auto& [position, name] : key) t.primary_key.columns.push_back(std::move(name));
  }

  std::vector<std::string> index_columns(const std::string& index, bool& expression) {
    auto stmt = conn_.prepare("SELECT cid, name FROM pragma_index_info(?) ORDER BY seqno");
    stmt->bind(0, Value{index});
    std::vector<std::string> out;
    while (stmt->step()) {
      if (stmt->get_int64(0) < 0 || stmt->is_null(1)) {
        expression = true;
        continue;
      }
      out.emplace_back(stmt->get_text(1));
    }
    return out;
  }

  template <class Problem>
  void indexes(schema::Table& t, const ParsedCreateTable& parsed, bool& pk_index,
               Problem& problem) {
    auto stmt = conn_.prepare(
        "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?) ORDER BY name");
    stmt->bind(0, Value{t.name});
    struct Row {
      std::string name;
      bool unique;
      std::string origin;
      bool partial;
    };
    std::vector<Row> rows;
    while (stmt->step()) {
      rows.push_back({std::string(stmt->get_text(0)), stmt->get_int64(1) != 0,
                      std::string(stmt->get_text(2)), stmt->get_int64(3) != 0});
    }
    std::vector<bool> taken(parsed.uniques.size(), false);
    for (const Row& r : rows) {
      if (r.origin == "pk") {
        pk_index = true;
        continue;
      }
      bool expression = false;
      std::vector<std::string> columns = index_columns(r.name, expression);
      if (expression) {
        problem("index '" + r.name + "' is on an expression, which strata does not model; left out");
        continue;
      }
      if (r.origin == "u") {  // a UNIQUE constraint: its name is in the CREATE TABLE text
        schema::UniqueConstraint uq{{}, std::move(columns)};
        for (std::size_t i = 0; i < parsed.uniques.size(); ++i) {
          if (!taken[i] && same_names(parsed.uniques[i].columns, uq.columns)) {
            uq.name = parsed.uniques[i].name;
            taken[i] = true;
            break;
          }
        }
        t.uniques.push_back(std::move(uq));
        continue;
      }
      if (r.partial) {
        problem("index '" + r.name + "' is partial (CREATE INDEX ... WHERE), which strata does "
                "not model; read as a full index");
      }
      t.indexes.push_back({r.name, std::move(columns), r.unique});
    }
  }

  // The primary key columns of another table, for a foreign key that leaves them implicit.
  std::vector<std::string> key_of(const std::string& table) {
    auto stmt = conn_.prepare("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk");
    stmt->bind(0, Value{table});
    std::vector<std::string> out;
    while (stmt->step()) out.emplace_back(stmt->get_text(0));
    return out;
  }

  static schema::ReferentialAction action(std::string_view text) {
    const std::string a = upper_without_spaces(text);
    if (a == "CASCADE") return schema::ReferentialAction::cascade;
    if (a == "SETNULL") return schema::ReferentialAction::set_null;
    if (a == "SETDEFAULT") return schema::ReferentialAction::set_default;
    if (a == "RESTRICT") return schema::ReferentialAction::restrict;
    return schema::ReferentialAction::no_action;
  }

  template <class Problem>
  void foreign_keys(schema::Table& t, const ParsedCreateTable& parsed, Problem& problem) {
    auto stmt = conn_.prepare(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete "
        "FROM pragma_foreign_key_list(?) ORDER BY id, seq");
    stmt->bind(0, Value{t.name});
    std::int64_t current = -1;
    std::vector<schema::ForeignKey> fks;
    std::vector<bool> implicit_key;
    while (stmt->step()) {
      if (stmt->get_int64(0) != current) {
        current = stmt->get_int64(0);
        schema::ForeignKey fk;
        fk.referred_table = std::string(stmt->get_text(1));
        fk.on_update = action(stmt->get_text(4));
        fk.on_delete = action(stmt->get_text(5));
        fks.push_back(std::move(fk));
        implicit_key.push_back(false);
      }
      fks.back().columns.emplace_back(stmt->get_text(2));
      if (stmt->is_null(3)) implicit_key.back() = true;
      else fks.back().referred_columns.emplace_back(stmt->get_text(3));
    }
    stmt.reset();
    // PRAGMA foreign_key_list lists a table's foreign keys last declared first.
    std::reverse(fks.begin(), fks.end());
    std::reverse(implicit_key.begin(), implicit_key.end());
    std::vector<bool> taken(parsed.foreign_keys.size(), false);
    for (std::size_t k = 0; k < fks.size(); ++k) {
      schema::ForeignKey& fk = fks[k];
      if (implicit_key[k]) {
        fk.referred_columns = key_of(fk.referred_table);
        if (fk.referred_columns.size() != fk.columns.size()) {
          problem("foreign key on (" + join(fk.columns) + ") refers to the primary key of '" +
                  fk.referred_table + "', which does not match it");
        }
      }
      for (std::size_t i = 0; i < parsed.foreign_keys.size(); ++i) {
        const schema::ForeignKey& p = parsed.foreign_keys[i];
        if (!taken[i] && same_names(p.columns, fk.columns) &&
            ddl::same_ignoring_case(p.referred_table, fk.referred_table) &&
            (p.referred_columns.empty() || same_names(p.referred_columns, fk.referred_columns))) {
          fk.name = p.name;
          taken[i] = true;
          break;
        }
      }
      t.foreign_keys.push_back(std::move(fk));
    }
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
  }

  const SqliteDialect& d_;
  engine::Connection& conn_;
  std::set<std::string> integer_declared_;  // of the table being read
};

}  // namespace

ReflectedSchema SqliteDialect::reflect(engine::Connection& conn) const {
  ReflectedSchema out;
  std::vector<std::pair<std::string, std::string>> tables;
  {
    auto stmt = conn.prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
    while (stmt->step()) {
      tables.emplace_back(std::string(stmt->get_text(0)),
                          stmt->is_null(1) ? std::string() : std::string(stmt->get_text(1)));
    }
  }
  Reader reader(*this, conn);
  for (const auto& [name, sql] : tables) {
    if (upper_without_spaces(sql.substr(0, 24)).rfind("CREATEVIRTUALTABLE", 0) == 0) {
      out.problems.push_back({name, "a virtual table, which strata does not model; left out"});
      continue;
    }
    reader.table(name, sql, out);
  }
  return out;
}

}  // namespace strata::dialect::sqlite
