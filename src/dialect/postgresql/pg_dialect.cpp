// The PostgreSQL dialect's spelling: reserved words and quoting, "$n" placeholders, type names,
// identity keys. Connections and error translation live in pg_connection.cpp and pg_errors.cpp.
#include "strata/dialect/postgresql/postgresql_dialect.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "postgresql.hpp"

namespace strata::dialect::postgresql {
namespace {

// PostgreSQL's reserved key words (those that cannot be a column or table name unquoted, and
// those reserved but allowed as function or type names), sorted for binary search; system_user
// since PostgreSQL 16.
constexpr std::array<std::string_view, 139> reserved{
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization",
    "between", "bigint", "binary", "bit", "boolean", "both", "case", "cast", "char", "character",
    "check", "coalesce", "collate", "collation", "column", "concurrently", "constraint", "create",
    "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
    "current_timestamp", "current_user", "dec", "decimal", "default", "deferrable", "desc",
    "distinct", "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float",
    "for", "foreign", "freeze", "from", "full", "grant", "greatest", "group", "having", "ilike",
    "in", "initially", "inner", "int", "integer", "intersect", "interval", "into", "is", "isnull",
    "join", "lateral", "leading", "least", "left", "like", "limit", "localtime", "localtimestamp",
    "national", "natural", "nchar", "none", "normalize", "not", "notnull", "null", "nullif",
    "numeric", "offset", "on", "only", "or", "order", "outer", "overlaps", "overlay", "placing",
    "position", "precision", "primary", "real", "references", "returning", "right", "row",
    "select", "session_user", "setof", "similar", "smallint", "some", "substring", "symmetric",
    "system_user", "table", "tablesample", "then", "time", "timestamp", "to", "trailing", "treat",
    "trim", "true", "union", "unique", "user", "using", "values", "varchar", "variadic", "verbose",
    "when", "where", "window", "with", "xmlattributes"};

}  // namespace

bool PgDialect::is_keyword(std::string_view lower_name) const {
  return std::binary_search(reserved.begin(), reserved.end(), lower_name);
}

std::string PgDialect::typed_placeholder(std::size_t n, const Value& v, bool exact) const {
  if (std::holds_alternative<std::int64_t>(v)) return placeholder(n) + "::bigint";
  if (std::holds_alternative<double>(v))
    return placeholder(n) + (exact ? "::numeric" : "::double precision");
  return placeholder(n);
}

std::unique_ptr<engine::Connection> PgDialect::connect(const engine::Url& url,
                                                       const engine::ConnectOptions& options) {
  return open_connection(url, options);
}

std::string PgDialect::type_sql(const schema::Type& t) const {
  switch (t.kind) {
    case schema::TypeKind::integer: return "INTEGER";
    case schema::TypeKind::big_integer: return "BIGINT";
    case schema::TypeKind::small_integer: return "SMALLINT";
    case schema::TypeKind::float_: return "DOUBLE PRECISION";
    case schema::TypeKind::boolean: return "BOOLEAN";
    case schema::TypeKind::string:
      return t.length ? "VARCHAR(" + std::to_string(*t.length) + ")" : std::string("TEXT");
    case schema::TypeKind::text: return "TEXT";
    case schema::TypeKind::blob: return "BYTEA";
    case schema::TypeKind::date: return "DATE";
    case schema::TypeKind::time: return "TIME";
    case schema::TypeKind::datetime: return "TIMESTAMP";
  }
  return "TEXT";
}

bool PgDialect::type_change_rewrites(const schema::Type& from, const schema::Type& to) const {
  const std::string from_sql = type_sql(from), to_sql = type_sql(to);
  if (from_sql == to_sql) return false;
  auto character = [](const schema::Type& t) {
    return t.kind == schema::TypeKind::string || t.kind == schema::TypeKind::text;
  };
  if (!character(from) || !character(to)) return true;
  if (to_sql == "TEXT") return false;  // from VARCHAR(n): the limit goes
  // Both VARCHAR(n): a longer limit is in place; a shorter one checks and rewrites every row.
  return from_sql == "TEXT" || *to.length < *from.length;
}

std::string PgDialect::type_change_using(const std::string& column, const schema::Type& from,
                                         const schema::Type& to) const {
  if (from.kind == to.kind) return {};
  using schema::TypeKind;
  const std::string c = quote(column);
  const auto textual = [](TypeKind k) { return k == TypeKind::string || k == TypeKind::text; };
  const auto number = [](TypeKind k) {
    return k == TypeKind::small_integer || k == TypeKind::integer ||
           k == TypeKind::big_integer || k == TypeKind::float_;
  };
  if (textual(from.kind) && to.kind == TypeKind::blob) return " USING convert_to(" + c + ", 'UTF8')";
  if (from.kind == TypeKind::blob && textual(to.kind)) return " USING convert_from(" + c + ", 'UTF8')";
  if (number(from.kind) && to.kind == TypeKind::boolean) return " USING (" + c + " <> 0)";
  if (from.kind == TypeKind::boolean && number(to.kind)) {
    return " USING " + c + "::INTEGER" +
           (to.kind == TypeKind::integer ? std::string() : "::" + type_sql(to));
  }
  if (textual(from.kind) && (to.kind == TypeKind::datetime || to.kind == TypeKind::time)) {
    // An offset follows the seconds (or minutes) of the time: Z, or a sign and hours with
    // optional minutes; a date's own "-01" is not one.
    const std::string offset =
        c + " ~ ':[0-9]{2}(\\.[0-9]*)?\\s*([zZ]|[+-][0-9]{1,2}(:?[0-9]{2})?)\\s*$'";
    if (to.kind == TypeKind::datetime) {
      return " USING CASE WHEN " + offset + " THEN " + c + "::TIMESTAMPTZ AT TIME ZONE 'UTC' ELSE " +
             c + "::TIMESTAMP END";
    }
    return " USING CASE WHEN " + offset + " THEN (" + c + "::TIMETZ AT TIME ZONE 'UTC')::TIME ELSE " +
           c + "::TIME END";
  }
  const bool varchar = to.kind == TypeKind::string && to.length.has_value();
  return " USING " + c + "::" + (varchar ? std::string("TEXT") : type_sql(to));
}

std::string PgDialect::default_sql(const schema::Column& c) const {
  // SQLite's spelling of a Boolean default (0 / 1), which PostgreSQL refuses for a boolean
  if (c.type.kind == schema::TypeKind::boolean) {
    if (*c.server_default == "0") return "false";
    if (*c.server_default == "1") return "true";
  }
  return *c.server_default;
}

std::string PgDialect::column_sql(const schema::Table& t, const schema::Column& c) const {
  std::string out = Dialect::column_sql(t, c);  // checks autoincrement's rules
  if (c.autoincrement) {
    const std::string type = type_sql(c.type);
    const std::size_t at = out.find(type, quote(c.name).size());
    out.insert(at + type.size(), " GENERATED BY DEFAULT AS IDENTITY");
  }
  return out;
}

std::optional<std::vector<std::string>> PgDialect::autoincrement_change_sql(
    const schema::Table& table, const std::string& column, bool on) const {
  const std::string alter = "ALTER TABLE " + quote(table.name) + " ALTER COLUMN " + quote(column);
  if (!on) return std::vector<std::string>{alter + " DROP IDENTITY"};
  // pg_get_serial_sequence reads its first argument as SQL (quoted), its second as the name.
  return std::vector<std::string>{
      alter + " ADD GENERATED BY DEFAULT AS IDENTITY",
      "SELECT setval(pg_get_serial_sequence(" + string_literal(quote(table.name)) + ", " +
          string_literal(column) + "), coalesce(max(" + quote(column) + "), 0) + 1, false) FROM " +
          quote(table.name)};
}

std::string PgDialect::array_param(std::size_t n, const schema::Column& c) const {
  // The element type without its length: a cast to VARCHAR(n)[] would cut a longer value
  // short instead of letting the column refuse it.
  schema::Type type = c.type;
  type.length.reset();
  return "CAST(" + placeholder(n) + " AS " + type_sql(type) + "[])";
}

std::string PgDialect::insert_rows_sql(const schema::Table& t,
                                       const std::vector<const schema::Column*>& columns,
                                       const std::vector<const schema::Column*>& returning) const {
  std::string names, arrays;
  std::size_t n = 0;
  for (const schema::Column* c : columns) {
    if (n > 0) {
      names += ", ";
      arrays += ", ";
    }
    names += quote(c->name);
    arrays += array_param(++n, *c);
  }
  // unnest() yields the rows in the arrays' order, and they are inserted so.
  std::string out = "INSERT INTO " + quote(t.name) + " (" + names + ") SELECT * FROM unnest(" +
                    arrays + ")";
  for (std::size_t i = 0; i < returning.size(); ++i)
    out += (i == 0 ? " RETURNING " : ", ") + quote(returning[i]->name);
  return out;
}

std::string PgDialect::update_rows_sql(const schema::Table& t,
                                       const std::vector<const schema::Column*>& set,
                                       const std::vector<const schema::Column*>& key) const {
  std::string out = "UPDATE " + quote(t.name) + " SET ";
  for (std::size_t i = 0; i < set.size(); ++i) {
    if (i > 0) out += ", ";
    out += quote(set[i]->name) + " = v." + quote(set[i]->name);
  }
  out += " FROM unnest(";
  std::string names;
  std::size_t n = 0;
  for (const auto* cols : {&set, &key}) {
    for (const schema::Column* c : *cols) {
      if (n > 0) {
        out += ", ";
        names += ", ";
      }
      out += array_param(++n, *c);
      names += quote(c->name);
    }
  }
  out += ") AS v (" + names + ") WHERE ";
  for (std::size_t k = 0; k < key.size(); ++k) {
    if (k > 0) out += " AND ";
    out += quote(t.name) + "." + quote(key[k]->name) + " = v." + quote(key[k]->name);
  }
  return out;
}

namespace {
// The advisory lock key of the migration lock: "STRATA" and 1, as a 64-bit number. The server
// shows it in pg_locks as classid (high 32 bits) and objid (low 32 bits).
constexpr std::int64_t migration_lock_key = 0x5354524154410001;
}  // namespace

void PgDialect::lock_migrations(engine::Connection& conn, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto attempt = conn.prepare("SELECT pg_try_advisory_lock($1)");
  for (;;) {
    attempt->bind_int64(0, migration_lock_key);
    const bool got = attempt->step() && attempt->get_int64(0) != 0;
    attempt->reset();
    if (got) return;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string holders;
  auto who = conn.prepare(
      "SELECT l.pid, coalesce(a.application_name, '') FROM pg_locks l "
      "LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND "
      "l.granted AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = $1");
  who->bind_int64(0, migration_lock_key);
  while (who->step()) {
    if (!holders.empty()) holders += ", ";
    holders += "server process " + std::to_string(who->get_int64(0));
    if (!who->get_text(1).empty()) holders += " (" + std::string(who->get_text(1)) + ")";
  }
  throw OperationalError(
      "the migration lock is held by another connection" +
          (holders.empty() ? std::string() : " (" + holders + ")") + "; waited " +
          std::to_string(timeout.count()) +
          " ms: another upgrade, downgrade or stamp is running on this database. Run again "
          "when it has ended, or end that connection if it is stuck",
      DatabaseErrorInfo{});
}

void PgDialect::unlock_migrations(engine::Connection& conn) const {
  auto release = conn.prepare("SELECT pg_advisory_unlock($1)");
  release->bind_int64(0, migration_lock_key);
  release->execute();
}

IntegrityError PgDialect::explain_integrity_error(const IntegrityError& e, const RowContext& row,
                                                  engine::Connection&,
                                                  const schema::MetaData& metadata) const {
  return postgresql::explain_integrity_error(e, row, metadata);
}

std::shared_ptr<Dialect> make_dialect() { return std::make_shared<PgDialect>(); }

}  // namespace strata::dialect::postgresql
