// The raw side on PostgreSQL: the fastest hand-written libpq for each workload — COPY for the
// bulk inserts (W1, W6a; the keys taken from the identity sequence first, in one statement, so
// that the objects get their ids as the strata side's do), one UPDATE ... FROM unnest(...) with
// two array parameters for W4, and prepared statements (PQprepare once, PQexecPrepared per
// call) for everything else; one transaction per workload. Values go as text, results come
// back as text and are read into the same structs strata fills.
#include <libpq-fe.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "workload.hpp"

namespace bench {
namespace {

class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  ~Result() { PQclear(r_); }
  operator PGresult*() const { return r_; }
  int rows() const { return PQntuples(r_); }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
  }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::int64_t int64(int row, int col) const {
    std::int64_t v = 0;
    const char* p = PQgetvalue(r_, row, col);
    std::from_chars(p, p + PQgetlength(r_, row, col), v);
    return v;
  }
  std::int64_t affected() const { return std::strtoll(PQcmdTuples(r_), nullptr, 10); }

 private:
  PGresult* r_;
};

class Pg {
 public:
  explicit Pg(const std::string& conninfo) : c_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(c_) != CONNECTION_OK) {
      std::string why = PQerrorMessage(c_);
      PQfinish(c_);
      throw std::runtime_error("raw libpq: cannot connect: " + why);
    }
    PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);  // "does not exist, skipping"
  }
  Pg(const Pg&) = delete;
  Pg& operator=(const Pg&) = delete;
  ~Pg() { PQfinish(c_); }

  void exec(const char* sql) {
    Result r(PQexec(c_, sql));
    check(r, sql);
  }
  // Runs sql; returns the rows it changed.
  std::int64_t exec_count(const char* sql) {
    Result r(PQexec(c_, sql));
    check(r, sql);
    return r.affected();
  }
  void prepare(const char* name, const char* sql) {
    Result r(PQprepare(c_, name, sql, 0, nullptr));
    check(r, sql);
  }
  // Runs a prepared statement with text parameters (nullptr = NULL).
  PGresult* run(const char* name, int n, const char* const* values) {
    PGresult* r = PQexecPrepared(c_, name, n, values, nullptr, nullptr, 0);
    const auto st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      std::string why = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error(std::string("raw libpq: ") + name + ": " + why);
    }
    return r;
  }
  // COPY table (columns) FROM STDIN with rows already in COPY's text format.
  std::int64_t copy_in(const char* copy_sql, const std::string& data) {
    {
      Result r(PQexec(c_, copy_sql));
      if (PQresultStatus(r) != PGRES_COPY_IN) fail(copy_sql);
    }
    if (PQputCopyData(c_, data.data(), static_cast<int>(data.size())) != 1 ||
        PQputCopyEnd(c_, nullptr) != 1)
      fail(copy_sql);
    Result r(PQgetResult(c_));
    check(r, copy_sql);
    while (PGresult* more = PQgetResult(c_)) PQclear(more);
    return r.affected();
  }
  // The next n values of a table's identity sequence, in one statement.
  std::vector<std::int64_t> next_keys(const char* name, std::int64_t n) {
    const std::string count = std::to_string(n);
    const char* v[] = {count.c_str()};
    Result r(run(name, 1, v));
    std::vector<std::int64_t> keys(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) keys[static_cast<std::size_t>(i)] = r.int64(i, 0);
    return keys;
  }

 private:
  void check(PGresult* r, const char* sql) {
    const auto st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
      throw std::runtime_error(std::string("raw libpq: ") + sql + ": " + PQresultErrorMessage(r));
  }
  [[noreturn]] void fail(const char* sql) {
    throw std::runtime_error(std::string("raw libpq: ") + sql + ": " + PQerrorMessage(c_));
  }
  PGconn* c_;
};

// A prepared statement for the length of one workload (as the SQLite side prepares its
// statements per workload): PQprepare now, DEALLOCATE when it goes.
class Prepared {
 public:
  Prepared(Pg& db, const char* name, const char* sql) : db_(db), name_(name) {
    db.prepare(name, sql);
  }
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;
  ~Prepared() {
    try {
      db_.exec(("DEALLOCATE " + name_).c_str());
    } catch (...) {
    }
  }

 private:
  Pg& db_;
  std::string name_;
};

// COPY's text format: backslash, tab, newline and carriage return escaped.
void copy_field(std::string& out, std::string_view v) {
  for (char ch : v) {
    switch (ch) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += ch;
    }
  }
}

// An element of an array literal: double-quoted, with " and \ escaped.
void array_element(std::string& out, std::string_view v) {
  out += '"';
  for (char ch : v) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '"';
}

void read_user(const Result& r, int row, User& u) {
  u.id = r.int64(row, 0);
  u.username = r.text(row, 1);
  u.email = r.text(row, 2);
  if (r.null(row, 3)) u.about_me.reset();
  else u.about_me = r.text(row, 3);
}

void read_post(const Result& r, int row, Post& p) {
  p.id = r.int64(row, 0);
  p.body = r.text(row, 1);
  auto t = strata::parse_datetime(r.text(row, 2));
  if (!t) throw std::runtime_error("raw libpq: bad timestamp " + r.text(row, 2));
  p.timestamp = *t;
  p.user_id = r.int64(row, 3);
}

constexpr const char* select_users = R"(SELECT id, username, email, about_me FROM "user")";
constexpr const char* get_user = R"(SELECT id, username, email, about_me FROM "user" WHERE id = $1)";

class RawLibpq final : public Side {
 public:
  explicit RawLibpq(const std::string& conninfo) : db_(conninfo) {
    // Set up as strata sets up its connections (pg_connection.cpp).
    db_.exec("SET DateStyle = ISO, YMD; SET TimeZone = UTC");
  }
  std::string name() const override { return "raw libpq"; }
  void settle() override {  // one statement each: VACUUM cannot run in a transaction
    db_.exec(R"(VACUUM ANALYZE "user")");
    db_.exec("VACUUM ANALYZE post");
  }

  void create_schema() override {
    // The DDL strata's create_all() emits for the models on PostgreSQL, names included.
    db_.exec(R"(DROP TABLE IF EXISTS post; DROP TABLE IF EXISTS "user";
      CREATE TABLE "user" (id BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL,
        username VARCHAR(64) NOT NULL, email VARCHAR(120) NOT NULL, about_me TEXT,
        CONSTRAINT pk_user PRIMARY KEY (id), CONSTRAINT uq_user_username UNIQUE (username),
        CONSTRAINT uq_user_email UNIQUE (email));
      CREATE TABLE post (id BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL,
        body VARCHAR(140) NOT NULL, "timestamp" TIMESTAMP NOT NULL, user_id BIGINT NOT NULL,
        CONSTRAINT pk_post PRIMARY KEY (id),
        CONSTRAINT fk_post_user_id_user FOREIGN KEY (user_id) REFERENCES "user" (id));
      CREATE INDEX ix_post_timestamp ON post ("timestamp");
      CREATE INDEX ix_post_user_id ON post (user_id);)");
    // nextval of the sequence named once (pg_get_serial_sequence per row costs 6x more).
    key_sql_.clear();
    for (auto [name, table] : {std::pair{"user_keys", R"('"user"')"}, std::pair{"post_keys", "'post'"}}) {
      const std::string seq = "SELECT pg_get_serial_sequence(" + std::string(table) + ", 'id')";
      Result r(PQexec_rows(seq.c_str()));
      const std::string sql = "SELECT nextval('" + r.text(0, 0) +
                              "'::regclass) FROM generate_series(1, $1::bigint)";
      key_sql_.emplace_back(name, sql);
    }
  }

  Check w1_insert_users(const Dataset& d) override {
    // The same objects the strata side adds, ids taken from the sequence into them.
    std::vector<User> users = d.users;
    Check c;
    db_.exec("BEGIN");
    Prepared next(db_, "user_keys", key_sql_[0].second.c_str());
    auto keys = db_.next_keys("user_keys", static_cast<std::int64_t>(users.size()));
    std::string data;
    data.reserve(users.size() * 64);
    char num[24];
    for (std::size_t i = 0; i < users.size(); ++i) {
      auto& u = users[i];
      u.id = keys[i];
      data.append(num, std::to_chars(num, num + sizeof num, u.id).ptr);
      data += '\t';
      copy_field(data, u.username);
      data += '\t';
      copy_field(data, u.email);
      data += '\t';
      if (u.about_me) copy_field(data, *u.about_me);
      else data += "\\N";
      data += '\n';
    }
    c.rows = db_.copy_in(R"(COPY "user" (id, username, email, about_me) FROM STDIN)", data);
    db_.exec("COMMIT");
    for (const auto& u : users) c.sum += u.id;
    return c;
  }

  Check w2_load_users(const Dataset&) override {
    std::vector<User> users;
    db_.exec("BEGIN");
    {
      Prepared all(db_, "all_users", select_users);
      Result r(db_.run("all_users", 0, nullptr));
      for (int i = 0; i < r.rows(); ++i) read_user(r, i, users.emplace_back());
    }
    db_.exec("COMMIT");
    Check c;
    for (const auto& u : users) {
      ++c.rows;
      c.sum += u.id + static_cast<std::int64_t>(u.email.size());
    }
    return c;
  }

  Check w3_get_by_key(const Dataset& d) override {
    std::vector<User> users;
    Check c;
    db_.exec("BEGIN");
    Prepared get(db_, "get_user", get_user);
    char key[24];
    for (auto k : d.get_keys) {
      *std::to_chars(key, key + sizeof key - 1, k).ptr = '\0';
      const char* v[] = {key};
      Result r(db_.run("get_user", 1, v));
      if (r.rows() == 1) {
        auto& u = users.emplace_back();
        read_user(r, 0, u);
        ++c.rows;
        c.sum += static_cast<std::int64_t>(u.username.size());
      }
    }
    db_.exec("COMMIT");
    return c;
  }

  Check w4_update_emails(const Dataset& d) override {
    std::vector<User> users;
    Check c;
    db_.exec("BEGIN");
    Prepared all(db_, "all_users", select_users);
    Prepared set(db_, "set_emails",
                 R"(UPDATE "user" SET email = v.email FROM unnest($1::bigint[], $2::text[]) )"
                 R"(AS v(id, email) WHERE "user".id = v.id)");
    {
      Result r(db_.run("all_users", 0, nullptr));
      for (int i = 0; i < r.rows(); ++i) read_user(r, i, users.emplace_back());
    }
    for (auto& u : users) u.email = d.new_emails[static_cast<std::size_t>(u.id - 1)];
    // One statement: the keys and the new emails as two arrays.
    std::string ids = "{", emails = "{";
    ids.reserve(users.size() * 8);
    emails.reserve(users.size() * 28);
    char num[24];
    for (std::size_t i = 0; i < users.size(); ++i) {
      if (i) {
        ids += ',';
        emails += ',';
      }
      ids.append(num, std::to_chars(num, num + sizeof num, users[i].id).ptr);
      array_element(emails, users[i].email);
    }
    ids += '}';
    emails += '}';
    const char* v[] = {ids.c_str(), emails.c_str()};
    {
      Result r(db_.run("set_emails", 2, v));
      c.rows = r.affected();
    }
    db_.exec("COMMIT");
    return c;
  }

  Check w5_like_queries(const Dataset& d) override {
    Check c;
    db_.exec("BEGIN");
    Prepared like(db_, "like_users",
                  R"(SELECT id, username, email, about_me FROM "user" )"
                  R"(WHERE username LIKE $1 ORDER BY username DESC LIMIT $2)");
    const std::string limit = std::to_string(d.like_limit);
    const char* v[] = {d.like_pattern.c_str(), limit.c_str()};
    std::vector<User> page;
    for (int q = 0; q < d.like_queries; ++q) {
      page.clear();
      Result r(db_.run("like_users", 2, v));
      for (int i = 0; i < r.rows(); ++i) read_user(r, i, page.emplace_back());
      for (const auto& u : page) {
        ++c.rows;
        c.sum += u.id;
      }
    }
    db_.exec("COMMIT");
    return c;
  }

  Check w6a_insert_posts(const Dataset& d) override {
    Check c;
    const auto n = static_cast<std::int64_t>(d.users.size());
    db_.exec("BEGIN");
    Prepared next(db_, "post_keys", key_sql_[1].second.c_str());
    auto keys = db_.next_keys("post_keys", n * d.posts_per_user);
    std::string data;
    data.reserve(keys.size() * 72);
    char num[24];
    char when[40];
    std::size_t k = 0;
    Post p;
    for (std::int64_t user = 1; user <= n; ++user) {
      for (int j = 0; j < d.posts_per_user; ++j) {
        p.id = keys[k++];
        p.body = d.post_body(user, j);
        p.timestamp = d.post_time(user, j);
        p.user_id = user;
        data.append(num, std::to_chars(num, num + sizeof num, p.id).ptr);
        data += '\t';
        copy_field(data, p.body);
        data += '\t';
        data.append(when, strata::to_iso(p.timestamp, when));
        data += '\t';
        data.append(num, std::to_chars(num, num + sizeof num, p.user_id).ptr);
        data += '\n';
        c.sum += p.id;
      }
    }
    c.rows = db_.copy_in(R"(COPY post (id, body, "timestamp", user_id) FROM STDIN)", data);
    db_.exec("COMMIT");
    return c;
  }

  Check w6b_lazy_posts(const Dataset& d) override {
    Check c;
    std::vector<User> users;
    std::vector<std::vector<Post>> posts;  // users[i]'s posts
    db_.exec("BEGIN");
    Prepared get(db_, "get_user", get_user);
    Prepared items(db_, "user_posts", R"(SELECT id, body, "timestamp", user_id FROM post )"
                                      R"(WHERE user_id = $1 ORDER BY id)");
    char key[24];
    for (auto k : d.lazy_users) {
      *std::to_chars(key, key + sizeof key - 1, k).ptr = '\0';
      const char* v[] = {key};
      {
        Result r(db_.run("get_user", 1, v));
        if (r.rows() != 1) continue;
        read_user(r, 0, users.emplace_back());
      }
      auto& list = posts.emplace_back();
      Result r(db_.run("user_posts", 1, v));
      for (int i = 0; i < r.rows(); ++i) read_post(r, i, list.emplace_back());
      for (const auto& p : list) {
        ++c.rows;
        c.sum += p.id;
      }
    }
    db_.exec("COMMIT");
    return c;
  }

  Check w7_bulk_delete(const Dataset&) override {
    Check c;
    db_.exec("BEGIN");
    c.rows += db_.exec_count("DELETE FROM post");
    c.rows += db_.exec_count(R"(DELETE FROM "user")");
    db_.exec("COMMIT");
    return c;
  }

 private:
  std::vector<std::pair<std::string, std::string>> key_sql_;  // name, SQL: next keys of user, post
  PGresult* PQexec_rows(const char* sql) {
    db_.prepare("", sql);  // the unnamed statement
    return db_.run("", 0, nullptr);
  }
  Pg db_;
};

// A libpq connection string for url's server and the given database: every keyword quoted.
std::string conninfo(const strata::engine::Url& url, const std::string& database) {
  std::string out;
  auto add = [&](const std::string& key, const std::string& value) {
    out += key + "='";
    for (char ch : value) {
      if (ch == '\\' || ch == '\'') out += '\\';
      out += ch;
    }
    out += "' ";
  };
  if (!url.host.empty()) add("host", url.host);
  if (url.port) add("port", std::to_string(*url.port));
  if (!url.username.empty()) add("user", url.username);
  if (!url.password.empty()) add("password", url.password);
  for (const auto& [k, v] : url.query) add(k, v);
  add("dbname", database);
  return out;
}

std::string quote_identifier(const std::string& name) {
  std::string out = "\"";
  for (char ch : name) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + '"';
}

}  // namespace

PgDatabases::PgDatabases(const std::string& url, bool keep) : keep_(keep) {
  auto parsed = strata::engine::Url::parse(url);
  if (parsed.database.empty() || parsed.database == "postgres")
    throw std::runtime_error("give the benchmark's database a name of its own in the URL "
                             "(postgresql:///strata_bench?host=...): it is dropped and created");
  admin_ = conninfo(parsed, "postgres");
  names_ = {parsed.database, parsed.database + "_raw"};
  raw_conninfo = conninfo(parsed, names_[1]);
  strata_url = url;
  Pg admin(admin_);
  for (const auto& name : names_) {
    admin.exec(("DROP DATABASE IF EXISTS " + quote_identifier(name)).c_str());
    admin.exec(("CREATE DATABASE " + quote_identifier(name)).c_str());
  }
}

PgDatabases::~PgDatabases() {
  if (keep_) return;
  try {
    Pg admin(admin_);
    for (const auto& name : names_)
      admin.exec(("DROP DATABASE IF EXISTS " + quote_identifier(name) + " WITH (FORCE)").c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata_bench: could not drop the benchmark databases: %s\n", e.what());
  }
}

std::unique_ptr<Side> make_raw_libpq_side(const std::string& conninfo) {
  return std::make_unique<RawLibpq>(conninfo);
}

}  // namespace bench
