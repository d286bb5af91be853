// The Engine's connection pool: lends open connections to sessions, takes them back clean
// (no open transaction), and serialises access when the database allows one connection only.
#include "strata/engine/engine.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace strata::engine {

PooledConnection& PooledConnection::operator=(PooledConnection&& o) noexcept {
  if (this != &o) {
    release();
    engine_ = std::exchange(o.engine_, nullptr);
    conn_ = std::move(o.conn_);
  }
  return *this;
}

PooledConnection::~PooledConnection() { release(); }

void PooledConnection::release() noexcept {
  if (!conn_) return;
  if (engine_ != nullptr) {
    engine_->give_back(std::move(conn_));
  } else {
    conn_.reset();
  }
}

Engine::Engine(Url url, std::shared_ptr<Driver> driver, EngineOptions options)
    : url_(std::move(url)), driver_(std::move(driver)), options_(std::move(options)) {}

// Connections still lent out must be given back before the engine goes; idle ones close here.
Engine::~Engine() { dispose(); }

PooledConnection Engine::connect() {
  const bool single = driver_->single_connection(url_);
  std::unique_lock lock(mutex_);
  // The one connection of a single-connection database is either idle, lent out, or not
  // opened yet (checked_out_ == 0); otherwise up to pool_size + max_overflow are lent out.
  const std::size_t limit = single ? 1 : std::max<std::size_t>(1, options_.pool_size + options_.max_overflow);
  const bool available = freed_.wait_for(lock, options_.pool_timeout, [&] {
    return single ? (!idle_.empty() || checked_out_ == 0) : checked_out_ < limit;
  });
  if (!available) {
    throw OperationalError(
        "timed out after " + std::to_string(options_.pool_timeout.count()) +
            " ms waiting for a connection to '" + url_.to_string() + "': " +
            (single ? std::string("this database allows one connection and it is in use")
                    : "all " + std::to_string(limit) + " connections (pool_size " +
                          std::to_string(options_.pool_size) + " + max_overflow " +
                          std::to_string(options_.max_overflow) + ") are in use") +
            "; give back a connection (end a session or its transaction) or raise the limit",
        DatabaseErrorInfo{});
  }
  EchoSink echo = options_.echo;
  ++checked_out_;
  while (!idle_.empty()) {
    std::unique_ptr<Connection> c = std::move(idle_.back());
    idle_.pop_back();
    lock.unlock();
    // A connection that died while idle (the server ended it) is closed, not handed out.
    bool alive = false;
    try {
      alive = c->is_alive();
    } catch (...) {
    }
    if (alive) {
      c->set_echo(std::move(echo));
      return PooledConnection(this, std::move(c));
    }
    c.reset();
    lock.lock();
  }
  // Open outside the lock: connecting may be slow, and other threads may use idle ones.
  lock.unlock();
  std::unique_ptr<Connection> c;
  try {
    c = driver_->connect(url_, options_.connect);
    if (options_.on_connect) options_.on_connect(*c);
  } catch (...) {
    lock.lock();
    --checked_out_;
    lock.unlock();
    freed_.notify_one();
    throw;
  }
  c->set_echo(std::move(echo));
  return PooledConnection(this, std::move(c));
}

void Engine::give_back(std::unique_ptr<Connection> c) noexcept {
  bool keep = true;
  try {
    if (c->in_transaction()) c->rollback();
    keep = c->is_alive();
  } catch (...) {
    keep = false;  // a connection that cannot roll back is not safe to reuse
  }
  const bool single = [&] {
    try {
      return driver_->single_connection(url_);
    } catch (...) {
      return false;
    }
  }();
  {
    std::lock_guard lock(mutex_);
    --checked_out_;
    if (keep && (single || idle_.size() < options_.pool_size)) {
      idle_.push_back(std::move(c));
    }
  }
  freed_.notify_one();
  // c, when not kept, closes here, outside the lock.
}

void Engine::set_echo(EchoSink sink) {
  std::lock_guard lock(mutex_);
  options_.echo = std::move(sink);
  for (auto& c : idle_) c->set_echo(options_.echo);
}

void Engine::dispose() {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard lock(mutex_);
    closing.swap(idle_);
  }
}

}  // namespace strata::engine
