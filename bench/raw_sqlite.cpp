// The raw side on SQLite: what a careful programmer writes by hand with the SQLite C API —
// each statement prepared once per workload and reused, one transaction per workload that
// writes, rows read straight into the same structs strata fills, and the connection set up as
// strata sets up its own (foreign keys on, 5 s busy timeout, the PRAGMAs of workload.hpp).
#include <sqlite3.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "workload.hpp"

namespace bench {
namespace {

class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                                SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
      fail("open " + path);
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA foreign_keys = ON");
    for (auto pragma : sqlite_pragmas) exec(std::string(pragma));
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() { sqlite3_close_v2(db_); }

  void exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("raw sqlite: " + what + ": " + sqlite3_errmsg(db_));
  }
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// A prepared statement, finalized when it goes.
class Stmt {
 public:
  Stmt(Db& db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db.handle(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) !=
        SQLITE_OK)
      db.fail(sql);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }
  operator sqlite3_stmt*() const { return s_; }

  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) db_.fail(sqlite3_sql(s_));
    return false;
  }
  void done() {  // steps to the end, then ready for new bindings
    while (step()) {
    }
    sqlite3_reset(s_);
  }
  void reset() { sqlite3_reset(s_); }
  void text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  std::string column_text(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
    return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, i)));
  }

 private:
  Db& db_;
  sqlite3_stmt* s_ = nullptr;
};

void read_user(const Stmt& s, User& u) {
  u.id = sqlite3_column_int64(s, 0);
  u.username = s.column_text(1);
  u.email = s.column_text(2);
  if (sqlite3_column_type(s, 3) == SQLITE_NULL) u.about_me.reset();
  else u.about_me = s.column_text(3);
}

void read_post(const Stmt& s, Post& p) {
  p.id = sqlite3_column_int64(s, 0);
  p.body = s.column_text(1);
  auto t = strata::parse_datetime(s.column_text(2));
  if (!t) throw std::runtime_error("raw sqlite: bad timestamp");
  p.timestamp = *t;
  p.user_id = sqlite3_column_int64(s, 3);
}

constexpr const char* select_users = "SELECT id, username, email, about_me FROM user";

class RawSqlite final : public Side {
 public:
  explicit RawSqlite(const std::string& path) : db_(path) {}
  std::string name() const override { return "raw sqlite3"; }

  void create_schema() override {
    // The DDL strata's create_all() emits for the models, names included.
    db_.exec("DROP TABLE IF EXISTS post; DROP TABLE IF EXISTS user;"
             "CREATE TABLE user (id INTEGER NOT NULL, username VARCHAR(64) NOT NULL, "
             "email VARCHAR(120) NOT NULL, about_me TEXT, CONSTRAINT pk_user PRIMARY KEY (id), "
             "CONSTRAINT uq_user_username UNIQUE (username), "
             "CONSTRAINT uq_user_email UNIQUE (email));"
             "CREATE TABLE post (id INTEGER NOT NULL, body VARCHAR(140) NOT NULL, "
             "timestamp DATETIME NOT NULL, user_id BIGINT NOT NULL, "
             "CONSTRAINT pk_post PRIMARY KEY (id), CONSTRAINT fk_post_user_id_user FOREIGN KEY "
             "(user_id) REFERENCES user (id));"
             "CREATE INDEX ix_post_timestamp ON post (timestamp);"
             "CREATE INDEX ix_post_user_id ON post (user_id);");
  }

  Check w1_insert_users(const Dataset& d) override {
    // The same objects the strata side adds, ids read back into them.
    std::vector<User> users = d.users;
    Check c;
    db_.exec("BEGIN");
    Stmt ins(db_, "INSERT INTO user (username, email, about_me) VALUES (?, ?, ?)");
    for (auto& u : users) {
      ins.text(1, u.username);
      ins.text(2, u.email);
      if (u.about_me) ins.text(3, *u.about_me);
      else sqlite3_bind_null(ins, 3);
      ins.done();
      u.id = sqlite3_last_insert_rowid(db_.handle());
      ++c.rows;
      c.sum += u.id;
    }
    db_.exec("COMMIT");
    return c;
  }

  Check w2_load_users(const Dataset&) override {
    std::vector<User> users;
    {
      db_.exec("BEGIN");
      Stmt s(db_, select_users);
      while (s.step()) read_user(s, users.emplace_back());
      s.reset();
      db_.exec("COMMIT");
    }
    Check c;
    for (const auto& u : users) {
      ++c.rows;
      c.sum += u.id + static_cast<std::int64_t>(u.email.size());
    }
    return c;
  }

  Check w3_get_by_key(const Dataset& d) override {
    std::vector<User> users;  // what a session would hold: every user fetched
    Check c;
    db_.exec("BEGIN");
    {
      Stmt s(db_, "SELECT id, username, email, about_me FROM user WHERE id = ?");
      for (auto key : d.get_keys) {
        sqlite3_bind_int64(s, 1, key);
        if (s.step()) {
          auto& u = users.emplace_back();
          read_user(s, u);
          ++c.rows;
          c.sum += static_cast<std::int64_t>(u.username.size());
        }
        s.reset();
      }
    }
    db_.exec("COMMIT");
    return c;
  }

  Check w4_update_emails(const Dataset& d) override {
    std::vector<User> users;
    Check c;
    db_.exec("BEGIN");
    {
      Stmt s(db_, select_users);
      while (s.step()) read_user(s, users.emplace_back());
      s.reset();
    }
    for (auto& u : users) u.email = d.new_emails[static_cast<std::size_t>(u.id - 1)];
    {
      Stmt upd(db_, "UPDATE user SET email = ? WHERE id = ?");
      for (const auto& u : users) {
        upd.text(1, u.email);
        sqlite3_bind_int64(upd, 2, u.id);
        upd.done();
        c.rows += sqlite3_changes(db_.handle());
      }
    }
    db_.exec("COMMIT");
    return c;
  }

  Check w5_like_queries(const Dataset& d) override {
    Check c;
    db_.exec("BEGIN");
    {
      Stmt s(db_,
             "SELECT id, username, email, about_me FROM user WHERE username LIKE ? "
             "ORDER BY username DESC LIMIT ?");
      std::vector<User> page;
      for (int q = 0; q < d.like_queries; ++q) {
        page.clear();
        s.text(1, d.like_pattern);
        sqlite3_bind_int64(s, 2, d.like_limit);
        while (s.step()) read_user(s, page.emplace_back());
        s.reset();
        for (const auto& u : page) {
          ++c.rows;
          c.sum += u.id;
        }
      }
    }
    db_.exec("COMMIT");
    return c;
  }

  Check w6a_insert_posts(const Dataset& d) override {
    Check c;
    db_.exec("BEGIN");
    {
      Stmt ins(db_, "INSERT INTO post (body, timestamp, user_id) VALUES (?, ?, ?)");
      const auto n = static_cast<std::int64_t>(d.users.size());
      Post p;
      for (std::int64_t user = 1; user <= n; ++user) {
        for (int j = 0; j < d.posts_per_user; ++j) {
          p.body = d.post_body(user, j);
          p.timestamp = d.post_time(user, j);
          p.user_id = user;
          const std::string when = strata::to_iso(p.timestamp);
          ins.text(1, p.body);
          ins.text(2, when);
          sqlite3_bind_int64(ins, 3, p.user_id);
          ins.done();
          p.id = sqlite3_last_insert_rowid(db_.handle());
          ++c.rows;
          c.sum += p.id;
        }
      }
    }
    db_.exec("COMMIT");
    return c;
  }

  Check w6b_lazy_posts(const Dataset& d) override {
    Check c;
    std::vector<User> users;
    std::vector<std::vector<Post>> posts;  // users[i]'s posts
    db_.exec("BEGIN");
    {
      Stmt get(db_, "SELECT id, username, email, about_me FROM user WHERE id = ?");
      Stmt items(db_,
                 "SELECT id, body, timestamp, user_id FROM post WHERE user_id = ? ORDER BY id");
      for (auto key : d.lazy_users) {
        sqlite3_bind_int64(get, 1, key);
        const bool found = get.step();
        if (found) read_user(get, users.emplace_back());
        get.reset();
        if (!found) continue;
        auto& list = posts.emplace_back();
        sqlite3_bind_int64(items, 1, key);
        while (items.step()) read_post(items, list.emplace_back());
        items.reset();
        for (const auto& p : list) {
          ++c.rows;
          c.sum += p.id;
        }
      }
    }
    db_.exec("COMMIT");
    return c;
  }

  Check w7_bulk_delete(const Dataset&) override {
    Check c;
    db_.exec("BEGIN");
    db_.exec("DELETE FROM post");
    c.rows += sqlite3_changes(db_.handle());
    db_.exec("DELETE FROM user");
    c.rows += sqlite3_changes(db_.handle());
    db_.exec("COMMIT");
    return c;
  }

 private:
  Db db_;
};

}  // namespace

std::unique_ptr<Side> make_raw_sqlite_side(const std::string& path) {
  return std::make_unique<RawSqlite>(path);
}

}  // namespace bench
