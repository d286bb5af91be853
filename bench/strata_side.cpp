// The strata side: the workloads as an application writes them with the ORM — a session per
// workload, objects added and committed, queries, lazy relationships, bulk deletes.
#include <stdexcept>

#include "workload.hpp"

namespace bench {
namespace {

using strata::col;

class StrataSide final : public Side {
 public:
  explicit StrataSide(const std::string& url)
      : on_postgresql_(strata::engine::Url::parse(url).backend() == "postgresql"),
        db_(url, options(url)),
        tracked_db_(url, options(url, true)) {
    db_.register_models<User, Post>();
    tracked_db_.register_models<User, Post>();
    tracked_db_.events().listen(strata::Signal::models_committed,
                                [this](strata::Session&, const std::vector<strata::ModelChange>& c) {
                                  committed_ += static_cast<std::int64_t>(c.size());
                                });
  }
  std::string name() const override { return "strata"; }
  void settle() override {
    // Outside a session: VACUUM cannot run in a transaction.
    if (!on_postgresql_) return;
    auto c = db_.engine().connect();
    c->execute(R"(VACUUM ANALYZE "user")");  // one statement each, as for the raw side
    c->execute("VACUUM ANALYZE post");
  }

  void create_schema() override {
    db_.drop_all();
    db_.create_all();
    // W4tm's database connects now, so that W4tm does not time opening a connection.
    tracked_db_.new_session().query<User>().count();
  }

  Check w1_insert_users(const Dataset& d) override {
    auto s = db_.new_session();
    std::vector<std::shared_ptr<User>> users;
    users.reserve(d.users.size());
    for (const auto& u : d.users) users.push_back(s.add(User(u)));
    s.commit();
    Check c;
    for (const auto& u : users) {
      ++c.rows;
      c.sum += u->id;
    }
    return c;
  }

  Check w2_load_users(const Dataset&) override {
    auto s = db_.new_session();
    auto users = s.query<User>().all();
    Check c;
    for (const auto& u : users) {
      ++c.rows;
      c.sum += u->id + static_cast<std::int64_t>(u->email.size());
    }
    return c;
  }

  Check w3_get_by_key(const Dataset& d) override {
    auto s = db_.new_session();
    Check c;
    for (auto key : d.get_keys) {
      if (auto u = s.get<User>(key)) {
        ++c.rows;
        c.sum += static_cast<std::int64_t>(u->username.size());
      }
    }
    return c;
  }

  Check w4_update_emails(const Dataset& d) override {
    auto s = db_.new_session();
    auto users = s.query<User>().all();
    for (auto& u : users) u->email = d.new_emails[static_cast<std::size_t>(u->id - 1)];
    s.commit();
    return Check{.rows = static_cast<std::int64_t>(users.size()), .sum = 0};
  }

  Check w4_update_emails_tracked(const Dataset& d) override {
    auto s = tracked_db_.new_session();
    auto users = s.query<User>().all();
    for (auto& u : users) u->email = d.new_emails[static_cast<std::size_t>(u->id - 1)];
    committed_ = 0;
    s.commit();
    if (committed_ != static_cast<std::int64_t>(users.size()))
      throw std::runtime_error("W4tm: models_committed listed " + std::to_string(committed_) +
                               " objects, not " + std::to_string(users.size()));
    return Check{.rows = static_cast<std::int64_t>(users.size()), .sum = 0};
  }

  Check w5_like_queries(const Dataset& d) override {
    auto s = db_.new_session();
    Check c;
    for (int q = 0; q < d.like_queries; ++q) {
      auto page = s.query<User>()
                      .filter(col(&User::username).like(d.like_pattern))
                      .order_by(strata::desc(&User::username))
                      .limit(d.like_limit)
                      .all();
      for (const auto& u : page) {
        ++c.rows;
        c.sum += u->id;
      }
    }
    return c;
  }

  Check w6a_insert_posts(const Dataset& d) override {
    auto s = db_.new_session();
    Check c;
    std::vector<std::shared_ptr<Post>> posts;
    posts.reserve(d.users.size() * static_cast<std::size_t>(d.posts_per_user));
    const auto n = static_cast<std::int64_t>(d.users.size());
    for (std::int64_t user = 1; user <= n; ++user)
      for (int j = 0; j < d.posts_per_user; ++j)
        posts.push_back(s.add(Post{.body = d.post_body(user, j),
                                   .timestamp = d.post_time(user, j),
                                   .user_id = user}));
    s.commit();
    for (const auto& p : posts) {
      ++c.rows;
      c.sum += p->id;
    }
    return c;
  }

  Check w6b_lazy_posts(const Dataset& d) override {
    auto s = db_.new_session();
    Check c;
    for (auto key : d.lazy_users) {
      auto u = s.get<User>(key);
      if (!u) continue;
      for (const auto& p : u->posts) {
        ++c.rows;
        c.sum += p->id;
      }
    }
    return c;
  }

  Check w7_bulk_delete(const Dataset&) override {
    auto s = db_.new_session();
    Check c;
    c.rows += s.query<Post>().delete_();
    c.rows += s.query<User>().delete_();
    s.commit();
    return c;
  }

 private:
  static strata::DatabaseOptions options(const std::string& url, bool track = false) {
    strata::DatabaseOptions o;
    o.track_modifications = track;
    if (strata::engine::Url::parse(url).backend() == "sqlite")
      o.engine.on_connect = [](strata::engine::Connection& c) {
        for (auto pragma : sqlite_pragmas) c.execute(pragma);
      };
    return o;
  }
  bool on_postgresql_;
  strata::Database db_;
  strata::Database tracked_db_;  // W4tm: the same database, with track_modifications
  std::int64_t committed_ = 0;   // objects the last models_committed listed
};

}  // namespace

std::unique_ptr<Side> make_strata_side(const std::string& url) {
  return std::make_unique<StrataSide>(url);
}

std::unique_ptr<Side> make_raw_side(const std::string& url) {
  auto parsed = strata::engine::Url::parse(url);
  if (parsed.backend() == "sqlite") {
    if (parsed.is_memory())
      throw std::runtime_error("the benchmark needs a file database (WAL), not sqlite://");
    return make_raw_sqlite_side(parsed.database + "-raw");
  }
  if (parsed.backend() == "postgresql")
    throw std::runtime_error("a PostgreSQL run takes its raw side from PgDatabases");
  throw std::runtime_error("no raw side for backend '" + std::string(parsed.backend()) +
                           "' yet; add one beside raw_sqlite.cpp");
}

}  // namespace bench
