// The workloads W1-W7 as an interface with one implementation per side: strata
// (strata_side.cpp, any URL strata supports) and hand-written code on a backend's C API
// (raw_sqlite.cpp, raw_libpq.cpp). main.cpp times each call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "models.hpp"

namespace bench {

// The inputs, generated once so that both sides do exactly the same work.
struct Dataset {
  std::vector<User> users;             // W1: what to insert (id 0; ids become 1..n in order)
  std::vector<std::int64_t> get_keys;  // W3: random primary keys
  std::vector<std::string> new_emails; // W4: the new email of user i+1 (the order of ids)
  std::string like_pattern;            // W5
  int like_queries = 0;                // W5: how many times
  int like_limit = 20;
  int posts_per_user = 0;              // W6: inserted for every user
  strata::DateTime first_post{};       // W6: post j of user i gets first_post + (i*ppu+j) s
  std::vector<std::int64_t> lazy_users;  // W6: users whose posts are loaded

  static Dataset make(int n, int gets, int like_queries, int posts_per_user, int lazy_users,
                      unsigned seed);
  std::string post_body(std::int64_t user_id, int j) const;
  strata::DateTime post_time(std::int64_t user_id, int j) const;
};

// What a workload read or wrote, so that both sides can be checked to have done the same work.
struct Check {
  std::int64_t rows = 0;  // rows written or objects read
  std::int64_t sum = 0;   // a checksum of what was read (ids, lengths)
  friend bool operator==(const Check&, const Check&) = default;
};

// One side of the benchmark. Each workload runs on the database as the previous one left it:
// create_schema, W1 (users inserted), W2-W5 (read / update), W6 (posts), W7 (all deleted).
class Side {
 public:
  virtual ~Side() = default;
  virtual std::string name() const = 0;
  // Drops the benchmark's tables if they exist and creates them empty.
  virtual void create_schema() = 0;
  virtual Check w1_insert_users(const Dataset& d) = 0;
  virtual Check w2_load_users(const Dataset& d) = 0;
  virtual Check w3_get_by_key(const Dataset& d) = 0;
  virtual Check w4_update_emails(const Dataset& d) = 0;
  // W4tm: W4 again (main.cpp passes other new_emails), strata with track_modifications on and
  // a models_committed receiver; the raw side has nothing to track and does W4's work.
  virtual Check w4_update_emails_tracked(const Dataset& d) { return w4_update_emails(d); }
  virtual Check w5_like_queries(const Dataset& d) = 0;
  virtual Check w6a_insert_posts(const Dataset& d) = 0;
  virtual Check w6b_lazy_posts(const Dataset& d) = 0;
  virtual Check w7_bulk_delete(const Dataset& d) = 0;
  // Untimed, after the bulk writes and before the reads that follow them (W5, W6b): brings
  // the planner's view of the tables up to date, so that both sides read tables in the same
  // state. PostgreSQL: VACUUM ANALYZE (otherwise autovacuum reaches one side's table and not
  // the other's, and W4's dead rows make W5 up to six times slower on the side it has not
  // reached); SQLite: nothing.
  virtual void settle() {}
};

// The connection set-up both sides use on SQLite (strata adds it through on_connect).
inline constexpr std::string_view sqlite_pragmas[] = {"PRAGMA journal_mode = WAL",
                                                      "PRAGMA synchronous = NORMAL"};

std::unique_ptr<Side> make_strata_side(const std::string& url);
// The raw side for a URL's backend, on a database of its own next to the strata one
// (SQLite: the same path + "-raw"; PostgreSQL: PgDatabases::raw_conninfo).
std::unique_ptr<Side> make_raw_side(const std::string& url);
std::unique_ptr<Side> make_raw_sqlite_side(const std::string& path);
std::unique_ptr<Side> make_raw_libpq_side(const std::string& conninfo);

// The two databases of a run on a PostgreSQL server: the URL's database for the strata side
// and the same name + "_raw" for the raw side, both dropped and created empty here (on the
// server's `postgres` database) and dropped again by the destructor unless kept.
class PgDatabases {
 public:
  PgDatabases(const std::string& url, bool keep);
  PgDatabases(const PgDatabases&) = delete;
  PgDatabases& operator=(const PgDatabases&) = delete;
  ~PgDatabases();
  std::string strata_url;
  std::string raw_conninfo;

 private:
  std::string admin_;
  std::vector<std::string> names_;
  bool keep_;
};

}  // namespace bench
