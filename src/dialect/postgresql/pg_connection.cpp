// The PostgreSQL driver: connects through libpq and runs statements as server-side prepared
// statements. PgDialect::connect() calls open_connection(); nothing outside this folder sees
// libpq-fe.h.
#include "pg_connection.hpp"

#include <poll.h>

#include <cctype>
#include <climits>
#include <cmath>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "../error_text.hpp"
#include "postgresql.hpp"
#include "strata/error.hpp"

namespace strata::dialect::postgresql {
namespace {

using Clock = std::chrono::steady_clock;

// Type OIDs of the built-in types whose text form is read as something other than text
// (pg_type.dat; stable across releases).
constexpr Oid bool_oid = 16, bytea_oid = 17, int8_oid = 20, int2_oid = 21, int4_oid = 23,
              oid_oid = 26, float4_oid = 700, float8_oid = 701, numeric_oid = 1700;

// The highest $n in sql, skipping quoted strings, quoted identifiers, dollar-quoted bodies and
// comments: the number of parameters the statement takes.
std::size_t count_parameters(std::string_view sql) {
  std::size_t highest = 0;
  const std::size_t n = sql.size();
  for (std::size_t i = 0; i < n; ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      for (++i; i < n; ++i) {
        if (sql[i] == c) {
          if (i + 1 < n && sql[i + 1] == c) {
            ++i;  // doubled quote
          } else {
            break;
          }
        }
      }
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      i = sql.find('\n', i);
      if (i == std::string_view::npos) break;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      i = sql.find("*/", i + 2);
      if (i == std::string_view::npos) break;
      ++i;
    } else if (c == '$') {
      std::size_t j = i + 1;
      if (j < n && std::isdigit(static_cast<unsigned char>(sql[j]))) {
        std::size_t number = 0;
        while (j < n && std::isdigit(static_cast<unsigned char>(sql[j]))) {
          number = number * 10 + static_cast<std::size_t>(sql[j] - '0');
          ++j;
        }
        if (number > highest) highest = number;
        i = j - 1;
        continue;
      }
      // $tag$ ... $tag$
      while (j < n && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) ++j;
      if (j < n && sql[j] == '$') {
        const std::string_view tag = sql.substr(i, j - i + 1);
        const std::size_t end = sql.find(tag, j + 1);
        if (end == std::string_view::npos) break;
        i = end + tag.size() - 1;
      }
    }
  }
  return highest;
}

// A bytea in text output form: "\x" and two hex digits a byte.
void decode_bytea(std::string_view text, std::vector<std::byte>& out) {
  out.clear();
  if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') {
    auto hex = [](char h) -> int {
      if (h >= '0' && h <= '9') return h - '0';
      if (h >= 'a' && h <= 'f') return h - 'a' + 10;
      if (h >= 'A' && h <= 'F') return h - 'A' + 10;
      return 0;
    };
    out.reserve((text.size() - 2) / 2);
    for (std::size_t i = 2; i + 1 < text.size(); i += 2) {
      out.push_back(static_cast<std::byte>(hex(text[i]) * 16 + hex(text[i + 1])));
    }
    return;
  }
  // The old escape format (bytea_output = escape), should a server be set so.
  std::size_t length = 0;
  unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(
                                             std::string(text).c_str()),
                                         &length);
  if (bytes == nullptr) return;
  out.assign(reinterpret_cast<const std::byte*>(bytes),
             reinterpret_cast<const std::byte*>(bytes) + length);
  PQfreemem(bytes);
}

std::string number_text(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

// ---- PgStatement -----------------------------------------------------------------------------

PgStatement::PgStatement(PgConnection& conn, std::string name, std::string sql,
                         std::size_t param_count)
    : link_(conn.link()),
      conn_(conn),
      name_(std::move(name)),
      sql_(std::move(sql)),
      params_(param_count) {}

// The server keeps the prepared statement until the connection deallocates it, which it does
// in a batch before its next prepare.
PgStatement::~PgStatement() {
  if (link_->conn != nullptr) link_->to_deallocate.push_back(std::move(name_));
}

PgStatement::Param& PgStatement::param(int index) {
  if (index < 0 || static_cast<std::size_t>(index) >= params_.size()) {
    raise_error({.kind = FailedCall::Kind::data,
                 .summary = "parameter index " + std::to_string(index) +
                            " is out of range: the statement has " +
                            std::to_string(params_.size()) + " parameters, numbered from 0",
                 .sql = sql_,
                 .params = rendered_params()});
  }
  if (!fresh_) {
    raise_error({.kind = FailedCall::Kind::programming,
                 .summary = "cannot bind a parameter while the statement is running; "
                            "step() it to the end or reset() it first",
                 .sql = sql_,
                 .params = rendered_params()});
  }
  return params_[static_cast<std::size_t>(index)];
}

void PgStatement::bind_null(int index) {
  Param& p = param(index);
  p.value = null;
  p.bound = true;
}

void PgStatement::bind_int64(int index, std::int64_t v) {
  Param& p = param(index);
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  p.text.assign(buf, r.ptr);
  p.value = v;
  p.bound = true;
}

void PgStatement::bind_double(int index, double v) {
  Param& p = param(index);
  p.text = number_text(v);
  p.value = v;
  p.bound = true;
}

void PgStatement::refuse_nul(int index, std::string_view v) {
  // libpq sends text parameters as C strings: a NUL byte would cut the value short, silently.
  if (v.find('\0') == std::string_view::npos) return;
  // The parameters as they would have been, this one shown with its NUL bytes as \0 (it is
  // not bound: the message showed it as NULL).
  std::vector<std::string> params = rendered_params();
  if (static_cast<std::size_t>(index) < params.size()) {
    std::string shown;
    for (char c : to_display(Value{std::string(v)}))
      shown += c == '\0' ? std::string("\\0") : std::string(1, c);
    params[static_cast<std::size_t>(index)] = std::move(shown);
  }
  raise_error({.kind = FailedCall::Kind::data,
               .summary = "parameter $" + std::to_string(index + 1) +
                          " is text containing a NUL byte, which PostgreSQL text cannot hold; "
                          "map binary data as strata::Blob (bytea)",
               .sql = sql_,
               .params = std::move(params)});
}

void PgStatement::bind_text(int index, std::string_view v) {
  refuse_nul(index, v);
  Param& p = param(index);
  p.text.assign(v);
  p.value = std::string(v);
  p.bound = true;
}

void PgStatement::bind_blob(int index, std::span<const std::byte> v) {
  Param& p = param(index);
  p.text.clear();
  p.value = Blob(v.begin(), v.end());
  p.bound = true;
}

void PgStatement::bind_array(int index, const std::vector<Value>& values) {
  for (const auto& v : values)
    if (const auto* text = std::get_if<std::string>(&v)) refuse_nul(index, *text);
  Param& p = param(index);
  std::string& out = p.text;
  out.clear();
  out += '{';
  char buf[64];
  auto quoted = [&out](std::string_view v) {
    out += '"';
    for (char ch : v) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  };
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, Null>) {
            out += "NULL";
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            out.append(buf, std::to_chars(buf, buf + sizeof buf, x).ptr);
          } else if constexpr (std::is_same_v<T, double>) {
            out += number_text(x);
          } else if constexpr (std::is_same_v<T, std::string>) {
            quoted(x);
          } else {  // Blob: bytea's hex form
            static constexpr char hex[] = "0123456789abcdef";
            std::string h = "\\x";
            for (std::byte b : x) {
              h += hex[static_cast<unsigned>(b) >> 4];
              h += hex[static_cast<unsigned>(b) & 15];
            }
            quoted(h);
          }
        },
        values[i]);
  }
  out += '}';
  // What echo and error messages show: the array's size, not its (possibly huge) text.
  p.value = "ARRAY[" + std::to_string(values.size()) + " values]";
  p.bound = true;
}

std::vector<std::string> PgStatement::rendered_params() const {
  std::vector<std::string> out;
  out.reserve(params_.size());
  for (const Param& p : params_) out.push_back(p.bound ? to_display(p.value) : "NULL");
  return out;
}

void PgStatement::execute_prepared() {
  PGconn* pg = link_->conn;
  const std::size_t n = params_.size();
  // Small statements need no heap for the argument arrays.
  constexpr std::size_t inline_params = 16;
  const char* values_inline[inline_params];
  int lengths_inline[inline_params];
  int formats_inline[inline_params];
  std::vector<const char*> values_heap;
  std::vector<int> lengths_heap, formats_heap;
  const char** values = values_inline;
  int* lengths = lengths_inline;
  int* formats = formats_inline;
  if (n > inline_params) {
    values_heap.resize(n);
    lengths_heap.resize(n);
    formats_heap.resize(n);
    values = values_heap.data();
    lengths = lengths_heap.data();
    formats = formats_heap.data();
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Param& p = params_[i];
    formats[i] = 0;
    lengths[i] = 0;
    if (!p.bound || std::holds_alternative<Null>(p.value)) {
      values[i] = nullptr;
    } else if (const auto* b = std::get_if<Blob>(&p.value)) {
      values[i] = b->empty() ? "" : reinterpret_cast<const char*>(b->data());
      lengths[i] = static_cast<int>(b->size());
      formats[i] = 1;
    } else {
      values[i] = p.text.c_str();
    }
  }
  const auto start = Clock::now();
  types_.clear();
  result_ = ResultPtr(PQexecPrepared(pg, name_.c_str(), static_cast<int>(n), values, lengths,
                                     formats, 0));
  const auto elapsed = Clock::now() - start;
  const ExecStatusType status = result_.get() ? PQresultStatus(result_.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_TUPLES_OK) {
    rows_ = PQntuples(result_.get());
    rows_affected_ = 0;
    types_.resize(static_cast<std::size_t>(PQnfields(result_.get())));
    for (std::size_t i = 0; i < types_.size(); ++i)
      types_[i] = PQftype(result_.get(), static_cast<int>(i));
  } else if (status == PGRES_COMMAND_OK) {
    rows_ = 0;
    const char* count = PQcmdTuples(result_.get());
    rows_affected_ = (count != nullptr && *count != '\0') ? std::strtoll(count, nullptr, 10) : 0;
  } else {
    if (conn_.echoing()) conn_.echo(sql_, rendered_params(), elapsed, true);
    FailedCall f{.result = result_.get(), .conn = pg, .sql = sql_, .params = rendered_params()};
    try {
      raise_error(f);
    } catch (...) {
      result_ = ResultPtr();
      throw;
    }
  }
  if (status == PGRES_TUPLES_OK) {
    // A SELECT reports no changed rows; INSERT/UPDATE/DELETE ... RETURNING do.
    const char* count = PQcmdTuples(result_.get());
    if (count != nullptr && *count != '\0') rows_affected_ = std::strtoll(count, nullptr, 10);
  }
  if (conn_.echoing()) conn_.echo(sql_, rendered_params(), elapsed);
}

bool PgStatement::step() {
  if (link_->conn == nullptr) {
    raise_error({.kind = FailedCall::Kind::operational,
                 .summary = "the connection this statement belongs to is closed", .sql = sql_});
  }
  if (fresh_) {
    execute_prepared();  // throws, leaving fresh_ set
    fresh_ = false;
    row_ = -1;
  }
  if (row_ < rows_) ++row_;
  if (row_ < rows_) return true;
  // Done. The result stays until reset() or the next execution: its columns can still be
  // asked for.
  fresh_ = true;
  return false;
}

void PgStatement::reset() {
  result_ = ResultPtr();
  types_.clear();
  rows_ = 0;
  row_ = -1;
  fresh_ = true;
  for (Param& p : params_) p.bound = false;
}

const PGresult* PgStatement::shape() const {
  if (result_.get() != nullptr) return result_.get();
  if (description_.get() == nullptr && link_->conn != nullptr) {
    // Before the first execution: the server describes the prepared statement.
    description_ = ResultPtr(PQdescribePrepared(link_->conn, name_.c_str()));
    if (description_.get() != nullptr && PQresultStatus(description_.get()) != PGRES_COMMAND_OK)
      description_ = ResultPtr();
  }
  return description_.get();
}

int PgStatement::column_count() const {
  const PGresult* r = shape();
  return r != nullptr ? PQnfields(r) : 0;
}

std::string_view PgStatement::column_name(int index) const {
  const PGresult* r = shape();
  if (r == nullptr) return {};
  const char* name = PQfname(r, index);
  return name != nullptr ? std::string_view(name) : std::string_view();
}

bool PgStatement::is_null(int index) const {
  if (result_.get() == nullptr || row_ < 0 || row_ >= rows_) return true;
  return PQgetisnull(result_.get(), row_, index) != 0;
}

namespace {
// The storage class of a value of this type with this text, as SQLite would report it. A
// numeric is an integer when its text is a whole number that fits 64 bits (the sum() of
// BIGINTs is a numeric, where SQLite's sum gives an integer): read as a double, it lost the
// digits beyond 2^53. Another numeric (a fraction, a whole number beyond int64) is a real.
engine::StorageClass storage_class_of(Oid type, std::string_view text) {
  switch (type) {
    case bool_oid:
    case int2_oid:
    case int4_oid:
    case int8_oid:
    case oid_oid: return engine::StorageClass::integer;
    case numeric_oid: {
      std::int64_t whole = 0;
      const auto r = std::from_chars(text.data(), text.data() + text.size(), whole);
      return r.ec == std::errc() && r.ptr == text.data() + text.size()
                 ? engine::StorageClass::integer
                 : engine::StorageClass::real;
    }
    case float4_oid:
    case float8_oid: return engine::StorageClass::real;
    case bytea_oid: return engine::StorageClass::blob;
    default: return engine::StorageClass::text;
  }
}

// from_chars rather than strtod, which reads the decimal point of the program's locale (a
// program that calls setlocale(LC_ALL, "") in Germany would read "0.5" as 0). It reads "NaN",
// "Infinity" and "-Infinity" as PostgreSQL writes them too.
double real_of(std::string_view text, Oid type) {
  if (text.empty()) return 0.0;
  if (type == bool_oid) return text[0] == 't' ? 1.0 : 0.0;
  double v = 0.0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec == std::errc::result_out_of_range) {
    // A numeric beyond a double's reach: too large reads as infinity, too small as zero.
    const bool negative = text.front() == '-';
    const auto e = text.find_first_of("eE");
    const bool tiny = e != std::string_view::npos
                          ? e + 1 < text.size() && text[e + 1] == '-'
                          : text.substr(negative ? 1 : 0, 2) == "0.";
    const double magnitude = tiny ? 0.0 : std::numeric_limits<double>::infinity();
    return negative ? -magnitude : magnitude;
  }
  return v;
}

// A value's text read as a number. A real number (numeric, float) read as an integer is
// truncated, and one beyond a 64-bit integer's range is the nearest end of it (NaN: 0), as
// SQLite does; a boolean is 1 or 0; empty text (NULL) is 0.
std::int64_t integer_of(std::string_view text, Oid type) {
  if (text.empty()) return 0;
  if (type == bool_oid) return text[0] == 't' ? 1 : 0;
  std::int64_t v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return v;
  const double d = real_of(text, type);
  // Converting a double outside the range (or NaN) to an integer is undefined behaviour.
  if (std::isnan(d)) return 0;
  if (d <= -0x1p63) return std::numeric_limits<std::int64_t>::min();
  if (d >= 0x1p63) return std::numeric_limits<std::int64_t>::max();
  return static_cast<std::int64_t>(d);
}
}  // namespace

engine::StorageClass PgStatement::storage_class(int index) const {
  if (is_null(index)) return engine::StorageClass::null;
  return storage_class_of(type_of(index), get_text(index));
}

std::int64_t PgStatement::get_int64(int index) const {
  return integer_of(get_text(index), type_of(index));
}

double PgStatement::get_double(int index) const {
  return real_of(get_text(index), type_of(index));
}

std::string_view PgStatement::get_text(int index) const {
  if (is_null(index)) return {};
  return {PQgetvalue(result_.get(), row_, index),
          static_cast<std::size_t>(PQgetlength(result_.get(), row_, index))};
}

std::span<const std::byte> PgStatement::blob_of(std::string_view text, Oid type) const {
  if (type == bytea_oid) {
    decode_bytea(text, blob_);
    return {blob_.data(), blob_.size()};
  }
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

std::span<const std::byte> PgStatement::get_blob(int index) const {
  return blob_of(get_text(index), type_of(index));
}

// The same answers as the getters, with the row and the column looked up once.
ValueRef PgStatement::get_ref(int index) const {
  const PGresult* r = result_.get();
  if (r == nullptr || row_ < 0 || row_ >= rows_) return {};
  const auto size = static_cast<std::size_t>(PQgetlength(r, row_, index));
  // Only an empty value may be NULL.
  if (size == 0 && PQgetisnull(r, row_, index) != 0) return {};
  const std::string_view text(PQgetvalue(r, row_, index), size);
  const Oid type = type_of(index);
  switch (storage_class_of(type, text)) {
    case engine::StorageClass::integer: return ValueRef::integer(integer_of(text, type));
    case engine::StorageClass::real: return ValueRef::real(real_of(text, type));
    case engine::StorageClass::blob: return ValueRef::blob(blob_of(text, type));
    default: return ValueRef::text(text);
  }
}

// ---- PgConnection ----------------------------------------------------------------------------

namespace {
// Notices and warnings are not printed (libpq's default writes them to stderr); a FATAL
// message that arrives while the connection is idle marks it as ending.
void on_notice(void* arg, const PGresult* res) {
  const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (severity != nullptr &&
      (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0)) {
    static_cast<Link*>(arg)->ending = true;
  }
}
}  // namespace

PgConnection::PgConnection(PGconn* conn) : link_(std::make_shared<Link>()) {
  link_->conn = conn;
  PQsetNoticeReceiver(conn, &on_notice, link_.get());
}

PgConnection::~PgConnection() {
  PGconn* conn = link_->conn;
  link_->conn = nullptr;
  link_->to_deallocate.clear();
  PQfinish(conn);
}

void PgConnection::deallocate_unused() {
  if (link_->to_deallocate.empty()) return;
  // Not inside a failed transaction: the server would refuse, and the names can wait.
  if (PQtransactionStatus(link_->conn) == PQTRANS_INERROR) return;
  std::string sql;
  for (const std::string& name : link_->to_deallocate) sql += "DEALLOCATE " + name + ";";
  link_->to_deallocate.clear();
  ResultPtr r(PQexec(link_->conn, sql.c_str()));
  // A failure here (the connection is gone) shows at the next real statement.
}

std::unique_ptr<engine::Statement> PgConnection::prepare(std::string_view sql) {
  if (link_->conn == nullptr) raise_error({.kind = FailedCall::Kind::operational, .summary = "the connection is closed", .sql = std::string(sql)});
  deallocate_unused();
  std::string text(sql);
  std::string name = "strata_" + std::to_string(++next_statement_);
  const std::size_t params = count_parameters(text);
  if (params > 65535)  // the protocol counts them in 16 bits; libpq's own message names no cause
    throw ArgumentError("a statement takes at most 65,535 parameters on PostgreSQL, and this one "
                        "has " + std::to_string(params) +
                        " (an in_() of that many values?); filter with in_() of a subquery, or "
                        "split the values into batches");
  const auto start = Clock::now();
  ResultPtr r(PQprepare(link_->conn, name.c_str(), text.c_str(), 0, nullptr));
  if (r.get() == nullptr || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    if (echoing()) echo(text, {}, Clock::now() - start, true);  // refused before it ran
    raise_error({.result = r.get(), .conn = link_->conn, .sql = text});
  }
  return std::make_unique<PgStatement>(*this, std::move(name), std::move(text), params);
}

namespace {

}  // namespace

void PgConnection::execute(std::string_view sql) {
  if (link_->conn == nullptr) raise_error({.kind = FailedCall::Kind::operational, .summary = "the connection is closed", .sql = std::string(sql)});
  if (PQstatus(link_->conn) == CONNECTION_BAD) {
    // Found lost by an earlier statement: this one (a COMMIT, say) is not sent, and the
    // server rolled back what the connection had begun when it went.
    raise_error({.kind = FailedCall::Kind::operational,
                 .summary = "lost the connection to the database server earlier; the "
                            "statement was not sent, and the transaction was rolled back by "
                            "the server",
                 .sql = std::string(sql)});
  }
  deallocate_unused();
  const std::string text(sql);
  const auto start = Clock::now();
  ResultPtr r(PQexec(link_->conn, text.c_str()));
  const auto elapsed = Clock::now() - start;
  const ExecStatusType status = r.get() ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    if (echoing()) echo(text, {}, elapsed, true);
    raise_error({.result = r.get(), .conn = link_->conn, .sql = text});
  }
  // The COMMIT of a transaction that a failed statement aborted rolls it back, and the server
  // says so only by the tag ROLLBACK: a commit that did not happen must not pass for one.
  if (status == PGRES_COMMAND_OK && std::string_view(PQcmdStatus(r.get())) == "ROLLBACK" &&
      error_text::is_commit(text)) {
    if (echoing()) echo(text, {}, elapsed, true);
    raise_error({.kind = FailedCall::Kind::programming,
                 .summary = "COMMIT rolled back instead: a statement of this transaction "
                            "failed earlier, and PostgreSQL then refuses the rest of it; nothing "
                            "of the transaction was written (roll back, then do the work again)",
                 .sql = text});
  }
  if (echoing()) echo(text, {}, elapsed);
}

std::int64_t PgConnection::last_insert_id() {
  // The ORM reads generated keys with RETURNING; this serves raw SQL callers.
  auto stmt = prepare("SELECT lastval()");
  if (!stmt->step()) return 0;
  return stmt->get_int64(0);
}

bool PgConnection::in_transaction() const {
  if (link_->conn == nullptr) return false;
  const PGTransactionStatusType s = PQtransactionStatus(link_->conn);
  return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

// Cheap enough for every checkout from the pool: no round trip. An idle connection has
// nothing to read unless the server sent a notice or closed it (terminated, restarted);
// reading then tells which.
bool PgConnection::is_alive() {
  PGconn* pg = link_->conn;
  if (pg == nullptr || PQstatus(pg) != CONNECTION_OK) return false;
  if (PQtransactionStatus(pg) == PQTRANS_ACTIVE) return true;  // a statement is running
  // A terminated backend sends its FATAL message, then closes: the first read takes the
  // message, a later one sees the end of the stream.
  for (int reads = 0; reads < 8; ++reads) {
    pollfd p{.fd = PQsocket(pg), .events = POLLIN, .revents = 0};
    if (p.fd < 0) return false;
    if (::poll(&p, 1, 0) <= 0) break;
    if (PQconsumeInput(pg) == 0) return false;
    while (PGnotify* n = PQnotifies(pg)) PQfreemem(n);  // also parses what arrived
    if (PQstatus(pg) != CONNECTION_OK || link_->ending) return false;
  }
  return PQstatus(pg) == CONNECTION_OK;
}

}  // namespace strata::dialect::postgresql

// ---- opening ---------------------------------------------------------------------------------

namespace strata::dialect::postgresql {

std::unique_ptr<engine::Connection> open_connection(const engine::Url& url,
                                                    const engine::ConnectOptions& options) {
  // libpq's own keywords: what the URL names, then its query parameters (host=/socket/dir,
  // sslmode, connect_timeout, application_name, options ...), which libpq checks itself.
  std::vector<std::pair<std::string, std::string>> params;
  auto set = [&](const std::string& key, std::string value) {
    for (auto& [k, v] : params) {
      if (k == key) {
        v = std::move(value);
        return;
      }
    }
    params.emplace_back(key, std::move(value));
  };
  set("connect_timeout", "10");
  set("fallback_application_name", "strata");
  if (!url.host.empty()) set("host", url.host);
  if (url.port) set("port", std::to_string(*url.port));
  if (!url.database.empty()) set("dbname", url.database);
  if (!url.username.empty()) set("user", url.username);
  if (!url.password.empty()) set("password", url.password);
  std::string user_options;
  for (const auto& [key, value] : url.query) {
    if (key == "options") {
      user_options = value;
    } else {
      set(key, value);
    }
  }
  // What strata reads back relies on these: ISO dates, UTC for CURRENT_TIMESTAMP (as on
  // SQLite), doubles written with every digit (a server, database or role may set
  // extra_float_digits = 0: 15 digits, so 0.1 + 0.2 would come back as 0.3), UTF-8 text, and
  // the busy timeout as the wait for a lock (lock_timeout is an int of milliseconds: a longer
  // one, as SQLite's, is the longest it takes, not a refused connection).
  const auto ms = options.busy_timeout.count();
  std::string session_options =
      "-c DateStyle=ISO,YMD -c TimeZone=UTC -c extra_float_digits=3 -c lock_timeout=" +
      std::to_string(ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : ms);
  if (!user_options.empty()) session_options += " " + user_options;
  set("options", session_options);
  set("client_encoding", "UTF8");

  std::vector<const char*> keys, values;
  for (const auto& [k, v] : params) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (conn == nullptr) {
    raise_error({.kind = FailedCall::Kind::operational, .summary = "cannot connect to '" + url.to_string() + "': out of memory"});
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string why = PQerrorMessage(conn);
    PQfinish(conn);
    raise_error({.kind = FailedCall::Kind::operational, .summary = "cannot connect to '" + url.to_string() + "': " + why});
  }
  return std::make_unique<PgConnection>(conn);
}

}  // namespace strata::dialect::postgresql
