// The Engine: a URL, the driver that connects to it, and a pool of open connections.
// Sessions borrow a connection for the length of a transaction and give it back.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "strata/engine/connection.hpp"
#include "strata/engine/url.hpp"

namespace strata::engine {

struct ConnectOptions {
  std::chrono::milliseconds busy_timeout{5000};  // how long to wait on a locked database
  bool foreign_keys = true;                        // enforce foreign keys (SQLite pragma)
  // SQLite: begin transactions with BEGIN IMMEDIATE, which takes the write lock at once and
  // waits busy_timeout for it, rather than BEGIN, which takes it at the first write. With
  // BEGIN, a transaction that reads and then writes while another connection writes is
  // refused at once (SQLite does not wait then: it could deadlock), so threads or processes
  // that write at the same time fail with "database is locked" however long busy_timeout is.
  // The cost: every transaction, one that only reads too, holds the write lock until it
  // ends, so transactions run one at a time. Django's "transaction_mode": "IMMEDIATE".
  // Ignored by PostgreSQL.
  bool begin_immediate = false;
};

// Opens connections for one backend. A dialect implements it.
class Driver {
 public:
  virtual ~Driver() = default;
  // Throws OperationalError with a clear message (e.g. "cannot open database file
  // 'x/y.db': folder 'x' does not exist") when the database cannot be reached.
  virtual std::unique_ptr<Connection> connect(const Url& url, const ConnectOptions& options) = 0;
  // Whether every connection sees the same data only if it is the same connection
  // (an in-memory SQLite database): then the pool holds exactly one.
  virtual bool single_connection(const Url& url) const = 0;
  // Whether the database url names exists, so that a command that only reads can leave a
  // missing one uncreated (connect() creates a SQLite file). Throws OperationalError when it
  // cannot exist at all (connect()'s message, e.g. its folder is missing). Servers, where
  // connecting creates nothing: true, and connect() reports a missing database.
  virtual bool exists(const Url& /*url*/) const { return true; }
};

struct EngineOptions {
  ConnectOptions connect;
  std::size_t pool_size = 5;                    // connections kept open when idle
  // Connections open at once beyond pool_size (SQLAlchemy's max_overflow): with every one of
  // pool_size + max_overflow lent out, connect() waits for one to be given back.
  std::size_t max_overflow = 10;
  std::chrono::milliseconds pool_timeout{30000};  // wait for a free connection, then error
  EchoSink echo;                                  // set: every connection echoes SQL here
  // Run on every new connection before first use, e.g. to set
  // "PRAGMA journal_mode = WAL" / "PRAGMA synchronous = NORMAL". When it throws, the
  // connection is closed and connect() throws that error.
  std::function<void(Connection&)> on_connect;
};

class Engine;

// A connection borrowed from the engine's pool; returned on destruction. A connection left
// inside a transaction is rolled back before it is reused; a dead one is closed.
class PooledConnection {
 public:
  PooledConnection() = default;
  PooledConnection(Engine* engine, std::unique_ptr<Connection> c) noexcept
      : engine_(engine), conn_(std::move(c)) {}
  PooledConnection(PooledConnection&&) noexcept = default;
  PooledConnection& operator=(PooledConnection&& o) noexcept;
  ~PooledConnection();
  Connection* operator->() const noexcept { return conn_.get(); }
  Connection& operator*() const noexcept { return *conn_; }
  explicit operator bool() const noexcept { return conn_ != nullptr; }
  void release() noexcept;  // give back now

 private:
  Engine* engine_ = nullptr;
  std::unique_ptr<Connection> conn_;
};

// Thread-safe: many threads may borrow connections at once.
class Engine {
 public:
  Engine(Url url, std::shared_ptr<Driver> driver, EngineOptions options = {});
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  // A connection from the pool, or a new one; waits up to pool_timeout when the pool is
  // exhausted (pool_size + max_overflow lent out; one for single-connection databases), then
  // throws OperationalError.
  PooledConnection connect();

  const Url& url() const noexcept { return url_; }
  Driver& driver() const noexcept { return *driver_; }
  const EngineOptions& options() const noexcept { return options_; }
  void set_echo(EchoSink sink);

  // Closes every idle connection.
  void dispose();

 private:
  friend class PooledConnection;
  void give_back(std::unique_ptr<Connection> c) noexcept;

  Url url_;
  std::shared_ptr<Driver> driver_;
  EngineOptions options_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t checked_out_ = 0;
};

}  // namespace strata::engine
