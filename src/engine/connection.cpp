// The driver-independent half of Connection and Statement: binding Values, the per-connection
// prepared-statement cache, transactions and savepoints, and formatting of echoed SQL.
#include "strata/engine/connection.hpp"

#include <cstdio>
#include <functional>
#include <limits>
#include <type_traits>
#include <utility>
#include <variant>

namespace strata::engine {
namespace {

// name in double quotes, embedded quotes doubled.
std::string quoted(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// sql on one line: each run of white space that holds a line break becomes one space.
std::string one_line(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  for (std::size_t i = 0; i < sql.size();) {
    const std::size_t j = sql.find_first_not_of(" \t\r\n", i);
    const std::size_t end = j == std::string_view::npos ? sql.size() : j;
    if (end == i) {
      out += sql[i++];
      continue;
    }
    const std::string_view space = sql.substr(i, end - i);
    const bool breaks = space.find_first_of("\r\n") != std::string_view::npos;
    if (breaks) {
      if (i != 0 && end != sql.size()) out += ' ';
    } else {
      out += space;
    }
    i = end;
  }
  return out;
}

}  // namespace

// ---- Statement ---------------------------------------------------------------------------

void Statement::bind_array(int index, const std::vector<Value>&) {
  DatabaseErrorInfo info;
  info.sql = sql();
  throw ProgrammingError("parameter " + std::to_string(index) +
                             ": this database driver cannot bind an array of values",
                         std::move(info));
}

void Statement::bind(int index, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Null>) {
          bind_null(index);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          bind_int64(index, x);
        } else if constexpr (std::is_same_v<T, double>) {
          bind_double(index, x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          bind_text(index, x);
        } else {
          bind_blob(index, x);
        }
      },
      v);
}

void Statement::bind_all(const std::vector<Value>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) bind(static_cast<int>(i), values[i]);
}

std::int64_t Statement::execute() {
  while (step()) {
  }
  return rows_affected();
}

Value Statement::get_value(int index) const {
  switch (storage_class(index)) {
    case StorageClass::null: return null;
    case StorageClass::integer: return get_int64(index);
    case StorageClass::real: return get_double(index);
    case StorageClass::text: return std::string(get_text(index));
    case StorageClass::blob: {
      const auto bytes = get_blob(index);
      return Blob(bytes.begin(), bytes.end());
    }
  }
  return null;
}

ValueRef Statement::get_ref(int index) const {
  switch (storage_class(index)) {
    case StorageClass::null: break;
    case StorageClass::integer: return ValueRef::integer(get_int64(index));
    case StorageClass::real: return ValueRef::real(get_double(index));
    case StorageClass::text: return ValueRef::text(get_text(index));
    case StorageClass::blob: return ValueRef::blob(get_blob(index));
  }
  return {};
}

// ---- CachedStatement and the statement cache ---------------------------------------------

CachedStatement::~CachedStatement() {
  if (owner_ != nullptr) owner_->give_back(slot_);
}

// Slots below cache_capacity index cache_; slot cache_capacity + i is overflow_[i], a fresh
// statement handed out because the cached one for that SQL was already borrowed.
CachedStatement Connection::prepare_cached(std::string_view sql, std::size_t hash) {
  bool busy = false;
  for (std::size_t i = 0; i < cache_.size(); ++i) {
    if (cache_hash_[i] != hash || cache_[i].sql != sql) continue;
    if (cache_[i].in_use) {
      busy = true;
      break;
    }
    cache_[i].in_use = true;
    cache_[i].last_used = ++use_clock_;
    return CachedStatement(this, cache_[i].stmt.get(), i);
  }

  if (!busy) {
    // Pick the slot first so that a failed prepare() leaves the cache as it was.
    std::size_t slot = cache_.size();
    if (slot >= cache_capacity) {
      std::uint64_t oldest = std::numeric_limits<std::uint64_t>::max();
      for (std::size_t i = 0; i < cache_.size(); ++i) {
        if (!cache_[i].in_use && cache_[i].last_used < oldest) {
          oldest = cache_[i].last_used;
          slot = i;
        }
      }
    }
    if (slot < cache_capacity) {
      std::unique_ptr<Statement> stmt = prepare(sql);
      if (slot == cache_.size()) {
        cache_.emplace_back();
        cache_hash_.push_back(0);
      }
      CacheEntry& e = cache_[slot];
      e.sql.assign(sql);
      e.stmt = std::move(stmt);
      e.in_use = true;
      e.last_used = ++use_clock_;
      cache_hash_[slot] = hash;
      return CachedStatement(this, e.stmt.get(), slot);
    }
  }

  // The SQL is already borrowed, or every cached statement is: lend a fresh one.
  std::unique_ptr<Statement> stmt = prepare(sql);
  std::size_t i = 0;
  while (i < overflow_.size() && overflow_[i]) ++i;
  if (i == overflow_.size()) overflow_.emplace_back();
  overflow_[i] = std::move(stmt);
  return CachedStatement(this, overflow_[i].get(), cache_capacity + i);
}

void Connection::give_back(std::size_t slot) noexcept {
  if (slot >= cache_capacity) {
    const std::size_t i = slot - cache_capacity;
    if (i < overflow_.size()) overflow_[i].reset();
    while (!overflow_.empty() && !overflow_.back()) overflow_.pop_back();
    return;
  }
  if (slot >= cache_.size()) return;
  CacheEntry& e = cache_[slot];
  try {
    e.stmt->reset();
  } catch (...) {
    // A statement that cannot be reset is not reused.
    e.stmt.reset();
    e.sql.clear();
    cache_hash_[slot] = 0;
    e.last_used = 0;
  }
  e.in_use = false;
}

// ---- transactions -----------------------------------------------------------------------

void Connection::begin() { execute("BEGIN"); }
void Connection::commit() { execute("COMMIT"); }
void Connection::rollback() { execute("ROLLBACK"); }

void Connection::savepoint(std::string_view name) { execute("SAVEPOINT " + quoted(name)); }

void Connection::release_savepoint(std::string_view name) {
  execute("RELEASE SAVEPOINT " + quoted(name));
}

void Connection::rollback_to_savepoint(std::string_view name) {
  execute("ROLLBACK TO SAVEPOINT " + quoted(name));
}

Transaction::Transaction(Connection& c) : Transaction(c, std::nullopt) {}

Transaction::Transaction(Connection& c, LockingRows locking)
    : Transaction(c, std::optional<LockingRows>(locking)) {}

Transaction::Transaction(Connection& c, std::optional<LockingRows> locking) : conn_(c) {
  // Nested inside another Transaction, or inside a transaction begun with plain SQL (e.g. a
  // migration's BEGIN IMMEDIATE): a savepoint.
  if (conn_.transaction_depth_ > 0 || conn_.in_transaction()) {
    std::string name = "sp_" + std::to_string(++conn_.savepoint_serial_);
    conn_.savepoint(name);
    savepoint_ = std::move(name);
  } else {
    if (locking) conn_.begin_locking(locking->nowait);
    else conn_.begin();
    conn_.savepoint_serial_ = 0;
  }
  ++conn_.transaction_depth_;
}

Transaction::~Transaction() {
  if (!active_) return;
  try {
    rollback();
  } catch (...) {
    // Destructors never throw; a failed rollback leaves the database to end the transaction.
  }
}

// A failed COMMIT (e.g. database locked) leaves the transaction active: the caller may retry
// or roll back, and the destructor rolls back. One the database ended itself (PostgreSQL's
// COMMIT of a transaction a failed statement aborted rolls it back) is over.
void Transaction::commit() {
  if (!active_) throw InvalidRequestError("commit() of a transaction that is already over");
  if (nested()) {
    conn_.release_savepoint(savepoint_);
  } else {
    try {
      conn_.commit();
    } catch (...) {
      if (!conn_.in_transaction()) {
        active_ = false;
        --conn_.transaction_depth_;
      }
      throw;
    }
  }
  active_ = false;
  --conn_.transaction_depth_;
}

// The transaction is over even when the ROLLBACK itself fails (SQLite may already have
// rolled back on its own after some errors, e.g. disk full).
void Transaction::rollback() {
  if (!active_) throw InvalidRequestError("rollback() of a transaction that is already over");
  active_ = false;
  --conn_.transaction_depth_;
  if (nested()) {
    conn_.rollback_to_savepoint(savepoint_);
    conn_.release_savepoint(savepoint_);
  } else if (conn_.in_transaction()) {
    conn_.rollback();
  }
}

// ---- echo -------------------------------------------------------------------------------

void Connection::echo(std::string_view sql, const std::vector<std::string>& params,
                      std::chrono::nanoseconds elapsed, bool failed) const {
  if (!echo_) return;
  std::string line = one_line(sql);
  if (!params.empty()) {
    line += "  [";
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (i != 0) line += ", ";
      line += params[i];
    }
    line += ']';
  }
  char timing[48];
  std::snprintf(timing, sizeof timing, failed ? "  (failed after %.3f ms)" : "  (%.3f ms)",
                std::chrono::duration<double, std::milli>(elapsed).count());
  line += timing;
  try {
    echo_(line);
  } catch (...) {
    // The statement has run (or its own error follows); a failing log sink must not turn
    // that into an error.
  }
}

}  // namespace strata::engine
