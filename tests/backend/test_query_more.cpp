// Queries beyond one model's rows, on a real database: joins (through relationships, on
// explicit conditions, outer, over an association table without a struct, under aliases),
// aggregates with group_by / having, distinct, subqueries in IN and EXISTS (correlated too),
// typed tuple results, arithmetic, text concatenation and scalar functions, and bulk updates
// from expressions. The Mega-Tutorial timeline is one query.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "backend.hpp"

namespace {

using strata::aliased;
using strata::avg;
using strata::coalesce;
using strata::col;
using strata::count;
using strata::count_distinct;
using strata::desc;
using strata::exists;
using strata::length;
using strata::lower;
using strata::max;
using strata::min;
using strata::sum;
using strata::upper;
using Names = std::vector<std::string>;

class QueryMoreTest : public ::backend::BackendTest {};

// Four users and six posts, committed, then forgotten by the session:
//   user   posts (title: votes, rating)
//   ann    a1: 3, 1.5    a2: 5, 2.5
//   bob    b1: 1, 4.0
//   carl   c1: 0, 0.5    c2: 2, 1.0    c3: 4, 3.5
//   dora   none
// fans (an association table declared without a struct): ann follows bob and carl,
// bob follows ann.
class Blog : public QueryMoreTest {
 protected:
  void SetUp() override {
    QueryMoreTest::SetUp();
    fans_table_ = &db().add_table(strata::table(
        "fans", strata::table_column<std::int64_t>("follower_id").primary_key(),
        strata::table_column<std::int64_t>("followed_id").primary_key()));
    db().drop_all();
    db().create_all();
    auto& s = session();
    auto user = [&](const char* name) {
      return s.add(User{.username = name, .email = std::string(name) + "@example.com"});
    };
    ann_ = user("ann");
    bob_ = user("bob");
    carl_ = user("carl");
    dora_ = user("dora");
    auto post = [&](const std::shared_ptr<User>& author, const char* title, int votes,
                    double rating) {
      s.add(Post{.title = title, .votes = votes, .rating = rating, .author = author});
    };
    post(ann_, "a1", 3, 1.5);
    post(ann_, "a2", 5, 2.5);
    post(bob_, "b1", 1, 4.0);
    post(carl_, "c1", 0, 0.5);
    post(carl_, "c2", 2, 1.0);
    post(carl_, "c3", 4, 3.5);
    s.commit();
    follow(ann_, bob_);
    follow(ann_, carl_);
    follow(bob_, ann_);
    s.commit();
    s.expunge_all();
    clear_sql();
  }

  void follow(const std::shared_ptr<User>& follower, const std::shared_ptr<User>& followed) {
    session().execute("INSERT INTO fans (follower_id, followed_id) VALUES (" + ph(1) +
                          ", " + ph(2) + ")",
                      {follower->id, followed->id});
  }

  template <class Q>
  static Names titles(const Q& q) {
    Names out;
    for (const auto& p : q.all()) out.push_back(p->title);
    return out;
  }
  template <class Q>
  static Names usernames(const Q& q) {
    Names out;
    for (const auto& u : q.all()) out.push_back(u->username);
    return out;
  }

  const strata::schema::Table* fans_table_ = nullptr;
  std::shared_ptr<User> ann_, bob_, carl_, dora_;
};
INSTANTIATE_TEST_SUITE_P(backends, Blog, ::testing::ValuesIn(::backend::test_urls()),
                         ::backend::url_label);

// ---- joins ---------------------------------------------------------------------------------

TEST_P(Blog, join_through_many_to_one_filters_on_the_joined_model) {
  auto q = session()
               .query<Post>()
               .join(&Post::author)
               .filter(col(&User::username) == "ann")
               .order_by(&Post::title);
  EXPECT_EQ(titles(q), (Names{"a1", "a2"}));
  ASSERT_EQ(selects().size(), 1u) << dump();
  EXPECT_NE(selects()[0].find(spelled(" FROM post JOIN {user} ON {user}.id = post.user_id WHERE "
                                      "{user}.username = ?")),
            std::string::npos)
      << dump();
}

TEST_P(Blog, join_through_one_to_many_repeats_the_parent_per_child_unless_distinct) {
  auto q = session()
               .query<User>()
               .join(&User::posts)
               .filter(col(&Post::votes) >= 2)
               .order_by(&User::username);
  EXPECT_EQ(usernames(q), (Names{"ann", "ann", "carl", "carl"}));
  EXPECT_EQ(q.count(), 4);
  EXPECT_EQ(usernames(q.distinct()), (Names{"ann", "carl"}));
  EXPECT_EQ(q.distinct().count(), 2) << "count() must count what all() returns";
  EXPECT_TRUE(q.exists());
  EXPECT_FALSE(q.filter(col(&Post::votes) > 100).exists());
  // past the two distinct users nothing is left, though four rows are
  EXPECT_TRUE(q.distinct().offset(1).exists());
  EXPECT_FALSE(q.distinct().offset(2).exists()) << "exists() must see what all() returns";
  EXPECT_EQ(q.distinct().offset(2).count(), 0);
  EXPECT_TRUE(q.offset(3).exists());
  auto page = session().query<User>().join(&User::posts).distinct().order_by(&User::username)
                  .paginate(1, 2);
  EXPECT_EQ(page.total, 3) << "ann, bob and carl have posts";
  EXPECT_TRUE(page.has_next);
}

TEST_P(Blog, join_on_an_explicit_condition_and_order_by_the_joined_column) {
  auto q = session()
               .query<User>()
               .join<Post>(col(&Post::user_id) == col(&User::id))
               .filter(col(&Post::rating) > 2.0)
               .order_by(desc(&Post::rating));
  EXPECT_EQ(usernames(q), (Names{"bob", "carl", "ann"}));
}

TEST_P(Blog, joined_objects_come_from_the_identity_map) {
  auto posts = session().query<Post>().join(&Post::author).filter(col(&User::username) == "bob")
                   .all();
  ASSERT_EQ(posts.size(), 1u);
  auto bob = session().query<User>().filter_by(&User::username, "bob").one();
  EXPECT_EQ(posts[0]->author.get(), bob) << "the joined user is not the session's object";
}

TEST_P(Blog, outerjoin_keeps_rows_without_a_match) {
  auto without_posts = session()
                           .query<User>()
                           .outerjoin(&User::posts)
                           .filter(col(&Post::id).is_null());
  EXPECT_EQ(usernames(without_posts), (Names{"dora"}));
  EXPECT_EQ(session().query<User>().outerjoin(&User::posts).count(), 7)
      << "six posts, and dora once with none";
  EXPECT_EQ(session().query<User>().join(&User::posts).count(), 6);
}

// The Flask Mega-Tutorial's timeline: posts of the users I follow, plus my own, newest
// first, in ONE statement.
TEST_P(Blog, timeline_of_followed_users_and_own_posts_is_one_query) {
  strata::TableRef fans(*fans_table_);
  auto follower_id = fans.column<std::int64_t>("follower_id");
  auto followed_id = fans.column<std::int64_t>("followed_id");
  auto timeline = [&](const std::shared_ptr<User>& me) {
    return session()
        .query<Post>()
        .outerjoin(fans, followed_id == col(&Post::user_id) && follower_id == me->id)
        .filter(follower_id == me->id || col(&Post::user_id) == me->id)
        .order_by(desc(&Post::id));
  };
  EXPECT_EQ(titles(timeline(ann_)), (Names{"c3", "c2", "c1", "b1", "a2", "a1"}));
  ASSERT_EQ(selects().size(), 1u) << dump();
  EXPECT_EQ(selects()[0].substr(selects()[0].find(" FROM")),
            spelled(" FROM post LEFT OUTER JOIN fans ON fans.followed_id = post.user_id "
                    "AND fans.follower_id = ? WHERE fans.follower_id = ? OR "
                    "post.user_id = ? ORDER BY post.id DESC"))
      << dump();
  EXPECT_EQ(titles(timeline(bob_)), (Names{"b1", "a2", "a1"}));
  EXPECT_EQ(titles(timeline(carl_)), (Names{"c3", "c2", "c1"}));
  EXPECT_EQ(titles(timeline(dora_)), Names{});
  EXPECT_EQ(timeline(ann_).count(), 6);
  EXPECT_EQ(timeline(ann_).paginate(2, 4).items.size(), 2u);

  // The inner-join form over the same table: posts of the users ann follows.
  auto followed = session()
                      .query<Post>()
                      .join(fans, followed_id == col(&Post::user_id))
                      .filter(follower_id == ann_->id)
                      .order_by(&Post::title);
  EXPECT_EQ(titles(followed), (Names{"b1", "c1", "c2", "c3"}));
}

TEST_P(Blog, table_handles_check_their_column_names_and_join_once) {
  strata::TableRef known(*fans_table_);
  EXPECT_THROW(known.column<std::int64_t>("folower_id"), strata::ArgumentError)
      << "a TableRef built from the table's schema must reject unknown columns";
  try {
    known.column<std::int64_t>("folower_id");
  } catch (const strata::ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("follower_id, followed_id"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(strata::TableRef(""), strata::ArgumentError);
  strata::TableRef by_name("fans");
  auto followed_id = by_name.column<std::int64_t>("followed_id");
  auto q = session().query<Post>().join(by_name, followed_id == col(&Post::user_id));
  EXPECT_THROW(q.join(by_name, followed_id == col(&Post::user_id)), strata::ArgumentError)
      << "joining one table twice under one name must be refused";
}

// ---- aliases (self-referential joins) -------------------------------------------------------

class Staff : public QueryMoreTest {
 protected:
  void SetUp() override {
    QueryMoreTest::SetUp();
    auto& s = session();
    auto ann = s.add(Employee{.name = "ann"});
    auto bob = s.add(Employee{.name = "bob", .manager = ann});
    s.add(Employee{.name = "carl", .manager = ann});
    s.add(Employee{.name = "dora", .manager = bob});
    s.commit();
    s.expunge_all();
    clear_sql();
  }
};
INSTANTIATE_TEST_SUITE_P(backends, Staff, ::testing::ValuesIn(::backend::test_urls()),
                         ::backend::url_label);

TEST_P(Staff, an_alias_joins_the_same_table_twice) {
  auto boss = aliased<Employee>("boss");
  auto reports_of_ann = session()
                            .query<Employee>()
                            .join(boss, &Employee::manager)
                            .filter(boss(&Employee::name) == "ann")
                            .order_by(&Employee::name);
  Names names;
  for (const auto& e : reports_of_ann.all()) names.push_back(e->name);
  EXPECT_EQ(names, (Names{"bob", "carl"}));
  EXPECT_NE(selects().back().find(
                " FROM employee JOIN employee AS boss ON boss.id = employee.manager_id"),
            std::string::npos)
      << dump();

  // Each employee with their manager's name; ann has none (outer join, read as optional).
  auto pairs = session()
                   .select(col(&Employee::name), strata::nullable(boss(&Employee::name)))
                   .outerjoin(boss, &Employee::manager)
                   .order_by(&Employee::name)
                   .all();
  using Pair = std::tuple<std::string, std::optional<std::string>>;
  static_assert(std::is_same_v<decltype(pairs), std::vector<Pair>>);
  EXPECT_EQ(pairs, (std::vector<Pair>{{"ann", std::nullopt}, {"bob", "ann"}, {"carl", "ann"},
                                      {"dora", "bob"}}));

  // Two levels: employees whose manager's manager is ann, through the alias's relationship.
  auto top = aliased<Employee>("top");
  auto second_level = session()
                          .select(&Employee::name)
                          .join(boss, &Employee::manager)
                          .join(top, boss(&Employee::manager))
                          .filter(top(&Employee::name) == "ann")
                          .all();
  EXPECT_EQ(second_level, (Names{"dora"}));
}

TEST_P(Staff, an_alias_used_twice_in_one_query_is_refused) {
  auto boss = aliased<Employee>("boss");
  auto q = session().query<Employee>().join(boss, &Employee::manager);
  EXPECT_THROW(q.join(boss, boss(&Employee::manager)), strata::ArgumentError);
  EXPECT_THROW(aliased<Employee>(""), strata::ArgumentError);
}

// ---- aggregates, group_by, having -------------------------------------------------------------

TEST_P(Blog, aggregates_read_as_their_documented_types) {
  auto posts = session().query<Post>();
  std::int64_t n = posts.select(count()).scalar();
  EXPECT_EQ(n, 6);
  std::optional<std::int64_t> votes = posts.select(sum(&Post::votes)).scalar();
  EXPECT_EQ(votes, 15);
  // user_id is a BIGINT: PostgreSQL's sum of it is numeric, read back as an integer.
  std::optional<std::int64_t> ids = posts.select(sum(&Post::user_id)).scalar();
  EXPECT_EQ(ids, 2 * ann_->id + bob_->id + 3 * carl_->id);
  std::optional<double> ratings = posts.select(sum(&Post::rating)).scalar();
  EXPECT_DOUBLE_EQ(ratings.value_or(0), 13.0);
  // avg of an integer column: numeric on PostgreSQL, read as a double.
  std::optional<double> mean = posts.filter(col(&Post::user_id) == carl_->id)
                                   .select(avg(&Post::votes))
                                   .scalar();
  EXPECT_DOUBLE_EQ(mean.value_or(-1), 2.0);
  std::optional<std::int32_t> most = posts.select(max(&Post::votes)).scalar();
  EXPECT_EQ(most, 5);
  std::optional<std::string> first_title = posts.select(min(col(&Post::title))).scalar();
  EXPECT_EQ(first_title, "a1");
  EXPECT_EQ(posts.select(count_distinct(&Post::user_id)).scalar(), 3);

  auto row = posts.select(count(), sum(&Post::votes), avg(&Post::rating), min(&Post::votes),
                          max(&Post::rating))
                 .one();
  using Row = std::tuple<std::int64_t, std::optional<std::int64_t>, std::optional<double>,
                         std::optional<std::int32_t>, std::optional<double>>;
  static_assert(std::is_same_v<decltype(row), Row>);
  EXPECT_EQ(std::get<0>(row), 6);
  EXPECT_EQ(std::get<1>(row), 15);
  EXPECT_NEAR(std::get<2>(row).value_or(0), 13.0 / 6, 1e-9);
  EXPECT_EQ(std::get<3>(row), 0);
  EXPECT_EQ(std::get<4>(row), 4.0);
}

// PostgreSQL has no min(boolean) / max(boolean): the column is compared as 0 / 1, and the
// result is a boolean again.
TEST_P(Blog, min_and_max_of_a_boolean_column_read_as_bool_on_every_database) {
  auto& s = session();
  s.query<User>().filter(col(&User::username) == "dora").update(strata::set(&User::active, false));
  auto [lowest, highest] = s.query<User>().select(min(&User::active), max(&User::active)).one();
  static_assert(std::is_same_v<decltype(lowest), std::optional<bool>>);
  EXPECT_EQ(lowest, false);
  EXPECT_EQ(highest, true);
  auto all_active = s.select(col(&User::username))
                        .group_by(&User::username)
                        .having(min(&User::active) == true)
                        .order_by(&User::username)
                        .all();
  EXPECT_EQ(all_active, (Names{"ann", "bob", "carl"}));
  // Compared with a boolean column (PostgreSQL has no integer = boolean).
  auto same = s.select(col(&User::username))
                  .group_by(&User::username, &User::active)
                  .having(max(&User::active) == col(&User::active))
                  .order_by(&User::username)
                  .all();
  EXPECT_EQ(same.size(), 4u);
  EXPECT_EQ(s.select(col(&User::username))
                .filter(col(&User::active) == s.query<User>().select(min(&User::active)).as_scalar())
                .all(),
            (Names{"dora"}));
}

TEST_P(Blog, aggregates_over_no_rows_are_null_except_count) {
  auto none = session().query<Post>().filter(col(&Post::votes) > 100);
  EXPECT_EQ(none.select(count()).scalar(), 0);
  EXPECT_EQ(none.select(sum(&Post::votes)).scalar(), std::nullopt);
  EXPECT_EQ(none.select(avg(&Post::votes)).scalar(), std::nullopt);
  EXPECT_EQ(none.select(min(&Post::title)).scalar(), std::nullopt);
  EXPECT_EQ(none.select(max(&Post::rating)).scalar(), std::nullopt);
  std::int64_t zero = none.select(coalesce(sum(&Post::votes), 0)).scalar();
  EXPECT_EQ(zero, 0);
  // A fractional fallback of an integer expression: a double (the int32 read refused 2.5).
  auto half = none.select(coalesce(max(&Post::votes), 2.5)).scalar();
  static_assert(std::is_same_v<decltype(half), double>);
  EXPECT_EQ(half, 2.5);
  auto most = session().query<Post>().select(coalesce(max(&Post::votes), 2.5)).scalar();
  EXPECT_EQ(most, 5.0);
}

TEST_P(Blog, an_integer_sum_beyond_int64_is_a_data_error_not_the_end_of_the_range) {
  // Each product is beyond int64: SQLite makes it a real, PostgreSQL refuses it. SQLite's
  // CAST of the real sum to BIGINT made it 9223372036854775807.
  const auto huge = col(&Post::votes) * std::int64_t{4'000'000'000'000'000'000};
  EXPECT_THROW(session().query<Post>().filter(col(&Post::votes) >= 3).select(sum(huge)).scalar(),
               strata::DataError);
  session().rollback();
  EXPECT_EQ(session().query<Post>().select(sum(col(&Post::votes) * std::int64_t{2})).scalar(), 30);
}

TEST_P(Blog, a_null_c_string_compared_with_a_text_column_is_an_argument_error) {
  // It was read as text (undefined behaviour).
  const char* none = nullptr;
  EXPECT_THROW(session().query<Post>().filter(col(&Post::title) == none).count(),
               strata::ArgumentError);
  EXPECT_THROW(session().query<Post>().update(strata::set(&Post::title, none)),
               strata::ArgumentError);
  EXPECT_EQ(session().query<Post>().filter(col(&Post::title) == "a1").count(), 1);
}

TEST_P(Blog, group_by_and_having_count_posts_per_user) {
  auto per_user = session()
                      .select(col(&User::username), count(col(&Post::id)))
                      .join(&User::posts)
                      .group_by(&User::username)
                      .having(count(col(&Post::id)) >= 2)
                      .order_by(desc(count(col(&Post::id))), &User::username)
                      .all();
  using Row = std::tuple<std::string, std::int64_t>;
  static_assert(std::is_same_v<decltype(per_user), std::vector<Row>>);
  EXPECT_EQ(per_user, (std::vector<Row>{{"carl", 3}, {"ann", 2}}));

  // Every user with their post count, zero included: outer join, count of the post side.
  auto all_users = session()
                       .select(col(&User::username), count(col(&Post::id)),
                               coalesce(sum(&Post::votes), 0))
                       .outerjoin(&User::posts)
                       .group_by(&User::username)
                       .order_by(&User::username)
                       .all();
  using Row3 = std::tuple<std::string, std::int64_t, std::int64_t>;
  EXPECT_EQ(all_users, (std::vector<Row3>{{"ann", 2, 8}, {"bob", 1, 1}, {"carl", 3, 6},
                                          {"dora", 0, 0}}));
}

TEST_P(Blog, group_by_on_a_model_query_returns_objects_per_group) {
  auto prolific = session()
                      .query<User>()
                      .join(&User::posts)
                      .group_by(&User::id)
                      .having(count(col(&Post::id)) >= 2)
                      .order_by(&User::username);
  EXPECT_EQ(usernames(prolific), (Names{"ann", "carl"}));
  EXPECT_EQ(prolific.count(), 2);
  EXPECT_TRUE(prolific.exists());
  EXPECT_FALSE(prolific.having(count(col(&Post::id)) > 10).exists());
}

// ---- tuple results ---------------------------------------------------------------------------

TEST_P(Blog, tuple_results_are_typed_and_one_column_is_a_plain_value) {
  auto pairs = session()
                   .select(col(&User::username), col(&Post::title))
                   .join(&User::posts)
                   .filter(col(&Post::votes) > 2)
                   .order_by(&Post::title)
                   .all();
  using Pair = std::tuple<std::string, std::string>;
  static_assert(std::is_same_v<decltype(pairs), std::vector<Pair>>);
  EXPECT_EQ(pairs, (std::vector<Pair>{{"ann", "a1"}, {"ann", "a2"}, {"carl", "c3"}}));

  auto names = session().select(&User::username).order_by(desc(&User::username)).all();
  static_assert(std::is_same_v<decltype(names), Names>);
  EXPECT_EQ(names, (Names{"dora", "carl", "bob", "ann"}));

  auto bios = session().select(&User::bio).filter(col(&User::username) == "ann").all();
  static_assert(std::is_same_v<decltype(bios), std::vector<std::optional<std::string>>>);
  EXPECT_EQ(bios, (std::vector<std::optional<std::string>>{std::nullopt}));

  auto users = session().select(&User::username).order_by(&User::username);
  EXPECT_EQ(users.first(), std::optional<std::string>("ann"));
  EXPECT_EQ(users.filter(col(&User::username) == "zed").first(), std::nullopt);
  EXPECT_EQ(users.filter(col(&User::username) == "bob").one(), "bob");
  EXPECT_THROW(users.one(), strata::MultipleResultsFound);
  EXPECT_THROW(users.filter(col(&User::username) == "zed").one(), strata::NoResultFound);
  EXPECT_EQ(users.filter(col(&User::username) == "zed").one_or_none(), std::nullopt);
  EXPECT_EQ(users.limit(2).offset(1).all(), (Names{"bob", "carl"}));
}

TEST_P(Blog, a_null_read_as_a_plain_value_says_to_use_nullable) {
  auto q = session()
               .select(col(&User::username), col(&Post::title))
               .outerjoin(&User::posts)
               .filter(col(&User::username) == "dora");
  try {
    q.all();
    ADD_FAILURE() << "dora has no posts: her post title is NULL and cannot be a std::string";
  } catch (const strata::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("nullable"), std::string::npos) << e.what();
  }
  auto ok = session()
                .select(col(&User::username), strata::nullable(col(&Post::title)))
                .outerjoin(&User::posts)
                .filter(col(&User::username) == "dora")
                .one();
  EXPECT_EQ(std::get<1>(ok), std::nullopt);
}

TEST_P(Blog, distinct_removes_duplicate_rows) {
  auto authors = session().select(&Post::user_id).distinct().order_by(&Post::user_id).all();
  EXPECT_EQ(authors, (std::vector<std::int64_t>{ann_->id, bob_->id, carl_->id}));
  EXPECT_EQ(session().select(&Post::user_id).all().size(), 6u);
}

// ---- subqueries --------------------------------------------------------------------------------

TEST_P(Blog, in_subquery_filters_by_the_rows_of_another_query) {
  auto popular_authors = session().query<Post>().filter(col(&Post::votes) > 3).select(
      &Post::user_id);
  EXPECT_EQ(usernames(session()
                          .query<User>()
                          .filter(col(&User::id).in_(popular_authors))
                          .order_by(&User::username)),
            (Names{"ann", "carl"}));
  EXPECT_EQ(usernames(session()
                          .query<User>()
                          .filter(col(&User::id).not_in(popular_authors))
                          .order_by(&User::username)),
            (Names{"bob", "dora"}));
  ASSERT_FALSE(selects().empty());
  EXPECT_NE(selects().back().find(" NOT IN (SELECT post.user_id FROM post WHERE post.votes > ?)"),
            std::string::npos)
      << dump();
}

TEST_P(Blog, correlated_exists_tests_each_row_of_the_outer_query) {
  auto well_rated = session().query<Post>().correlate<User>().filter(
      col(&Post::user_id) == col(&User::id) && col(&Post::rating) > 3.0);
  EXPECT_EQ(usernames(session().query<User>().filter(exists(well_rated)).order_by(&User::username)),
            (Names{"bob", "carl"}));
  auto any_post = session().query<Post>().correlate<User>().filter(col(&Post::user_id) ==
                                                                   col(&User::id));
  EXPECT_EQ(usernames(session().query<User>().filter(!exists(any_post))), (Names{"dora"}));
  EXPECT_NE(selects().back().find("WHERE NOT EXISTS (SELECT 1 FROM post WHERE post.user_id = "),
            std::string::npos)
      << dump();
  // A tuple query works as the subquery too.
  auto titled = session().query<Post>().correlate<User>().filter(
      col(&Post::user_id) == col(&User::id) && col(&Post::title) == "b1").select(&Post::id);
  EXPECT_EQ(usernames(session().query<User>().filter(exists(titled))), (Names{"bob"}));
}

TEST_P(Blog, scalar_subqueries_compare_with_and_select_a_value) {
  auto mean = session().query<Post>().select(avg(&Post::votes)).as_scalar();
  EXPECT_EQ(titles(session().query<Post>().filter(col(&Post::votes) > mean).order_by(&Post::title)),
            (Names{"a1", "a2", "c3"}))
      << "the mean of the votes is 2.5";

  // Each user with the number of their posts, by a correlated scalar subquery.
  auto posts_of_user = session()
                           .query<Post>()
                           .correlate<User>()
                           .filter(col(&Post::user_id) == col(&User::id))
                           .select(count())
                           .as_scalar();
  auto rows = session().select(col(&User::username), posts_of_user).order_by(&User::username)
                  .all();
  using Row = std::tuple<std::string, std::optional<std::int64_t>>;
  static_assert(std::is_same_v<decltype(rows), std::vector<Row>>);
  EXPECT_EQ(rows, (std::vector<Row>{{"ann", 2}, {"bob", 1}, {"carl", 3}, {"dora", 0}}));
}

// ---- arithmetic, text and scalar functions -----------------------------------------------------

TEST_P(Blog, arithmetic_filters_orders_and_selects_computed_values) {
  auto& s = session();
  auto votes = col(&Post::votes);
  auto rating = col(&Post::rating);
  EXPECT_EQ(titles(s.query<Post>().filter(votes * 2 > 5).order_by(&Post::title)),
            (Names{"a1", "a2", "c3"}));
  EXPECT_EQ(titles(s.query<Post>().filter(10 - votes >= 8).order_by(&Post::title)),
            (Names{"b1", "c1", "c2"}))
      << "a value on the left";
  // votes - rating: a1 1.5, a2 2.5, b1 -3, c1 -0.5, c2 1, c3 0.5
  EXPECT_EQ(titles(s.query<Post>().order_by(desc(votes - rating)).limit(2)),
            (Names{"a2", "a1"}));

  auto row = s.select(votes + 1, rating * 2, votes / 2, votes / 2.0, -votes, (votes + 1) * 3,
                      votes % 3, -votes % 3)
                 .filter(col(&Post::title) == "a2")
                 .one();
  using Row = std::tuple<std::int64_t, double, std::int64_t, double, std::int64_t, std::int64_t,
                         std::int64_t, std::int64_t>;
  static_assert(std::is_same_v<decltype(row), Row>);
  EXPECT_EQ(row, (Row{6, 5.0, 2, 2.5, -5, 18, 2, -2}))
      << "integer division truncates on every database; (votes + 1) * 3 keeps its parentheses; "
         "a remainder has the dividend's sign";
  EXPECT_EQ(titles(s.query<Post>().filter(votes % 2 == 1).order_by(&Post::title)),
            (Names{"a1", "a2", "b1"}));
  // Two columns of a join.
  EXPECT_EQ(s.select(col(&User::id) - col(&Post::user_id)).join(&User::posts).all(),
            (std::vector<std::int64_t>(6, 0)));
}

TEST_P(Blog, any_expression_takes_like_in_between_and_is_null_as_sqlalchemys_do) {
  // They were a column's only: func.lower(User.email).like(...) had no strata spelling.
  auto& s = session();
  auto name = col(&User::username);
  EXPECT_EQ(usernames(s.query<User>().filter(upper(name).like("%O%")).order_by(name)),
            (Names{"bob", "dora"}));
  EXPECT_EQ(usernames(s.query<User>().filter(upper(name).ilike("c%"))), (Names{"carl"}));
  EXPECT_EQ(usernames(s.query<User>().filter((name + "!").endswith("b!"))), (Names{"bob"}));
  EXPECT_EQ(usernames(s.query<User>().filter(upper(name).not_like("%A%"))), (Names{"bob"}));
  auto votes = col(&Post::votes);
  EXPECT_EQ(titles(s.query<Post>().filter((votes + 1).in_({2, 6})).order_by(&Post::title)),
            (Names{"a2", "b1"}));
  EXPECT_EQ(titles(s.query<Post>().filter((votes * 2).not_in({0, 2, 4})).order_by(&Post::title)),
            (Names{"a1", "a2", "c3"}));
  EXPECT_EQ(titles(s.query<Post>().filter((votes - 1).between(1, 2)).order_by(&Post::title)),
            (Names{"a1", "c2"}));
  EXPECT_EQ(usernames(s.query<User>().filter((col(&User::bio) + "!").is_null()).order_by(name)),
            (Names{"ann", "bob", "carl", "dora"}));
  EXPECT_TRUE(usernames(s.query<User>().filter(upper(&User::bio).is_not_null())).empty());
  EXPECT_EQ(usernames(s.query<User>()
                          .filter(length(name).in_(s.select(max(length(name)))))
                          .order_by(name)),
            (Names{"carl", "dora"}));
}

TEST_P(Blog, text_joins_text_and_scalar_functions_apply_to_each_row) {
  auto& s = session();
  auto name = col(&User::username);
  EXPECT_EQ(s.select(name + " <" + col(&User::email) + ">").filter(name == "ann").one(),
            "ann <ann@example.com>");
  EXPECT_EQ(s.select("@" + name).filter(name == "bob").one(), "@bob") << "text on the left";
  EXPECT_EQ(usernames(s.query<User>().filter(upper(name) == "BOB")), (Names{"bob"}));
  EXPECT_EQ(usernames(s.query<User>().filter(lower(upper(&User::username)) == "carl")),
            (Names{"carl"}));
  EXPECT_EQ(usernames(s.query<User>().filter(length(name) > 3).order_by(&User::username)),
            (Names{"carl", "dora"}));
  auto n = s.select(length(&User::username)).filter(name == "ann").one();
  static_assert(std::is_same_v<decltype(n), std::int64_t>);
  EXPECT_EQ(n, 3);
  EXPECT_EQ(s.select(strata::abs(col(&Post::votes) - 3)).filter(col(&Post::title) == "c1").one(),
            3);
  EXPECT_EQ(s.select(strata::abs(col(&Post::rating) - 4)).filter(col(&Post::title) == "c1").one(),
            3.5);

  // NULL in, NULL out: a nullable column makes the result std::optional.
  auto bio = s.select(col(&User::bio) + "!", upper(&User::bio), length(col(&User::bio)))
                 .filter(name == "ann")
                 .one();
  static_assert(std::is_same_v<decltype(bio), std::tuple<std::optional<std::string>,
                                                         std::optional<std::string>,
                                                         std::optional<std::int64_t>>>);
  EXPECT_EQ(bio, (std::tuple<std::optional<std::string>, std::optional<std::string>,
                             std::optional<std::int64_t>>{}));
  EXPECT_EQ(s.select(coalesce(col(&User::bio) + "!", "none")).filter(name == "ann").one(), "none");
  {
    using namespace strata;  // as the docs' examples do: plain numbers keep the C library's
    EXPECT_EQ(abs(-2), 2);
    EXPECT_EQ(std::abs(-2.5), 2.5);
  }
}

TEST_P(Blog, an_expression_with_a_value_groups_and_orders_what_it_selects) {
  // Votes in buckets of two: a1 3 -> 1, a2 5 -> 2, b1 1 -> 0, c1 0 -> 0, c2 2 -> 1, c3 4 -> 2.
  auto bucket = col(&Post::votes) / 2;
  using Row = std::tuple<std::int64_t, std::int64_t>;
  EXPECT_EQ(session().select(bucket, count()).group_by(bucket).order_by(desc(bucket)).all(),
            (std::vector<Row>{{2, 2}, {1, 2}, {0, 2}}));
  EXPECT_EQ(session()
                .select(col(&Post::votes) / 2)
                .distinct()
                .order_by(col(&Post::votes) / 2)
                .all(),
            (std::vector<std::int64_t>{0, 1, 2}))
      << "the same expression written twice";
}

TEST_P(Blog, an_expression_with_a_value_it_groups_by_is_the_same_in_having_and_around_items) {
  // Buckets of two: 2 -> a2, c3; 1 -> a1, c2; 0 -> b1, c1.
  auto bucket = col(&Post::votes) / 2;
  using Row = std::tuple<std::int64_t, std::int64_t>;
  EXPECT_EQ(session()
                .select(bucket, count())
                .group_by(bucket)
                .having(bucket > 0)
                .order_by(bucket * 3)
                .all(),
            (std::vector<Row>{{1, 2}, {2, 2}}));
  EXPECT_EQ(session().select(bucket * 10).group_by(bucket).order_by(desc(bucket)).all(),
            (std::vector<std::int64_t>{20, 10, 0}));
}

TEST_P(Blog, dividing_by_zero_is_null_on_sqlite_and_a_data_error_on_postgresql) {
  auto& s = session();
  auto ratio = strata::nullable(col(&Post::votes) / col(&Post::votes));
  auto c1 = s.select(ratio).filter(col(&Post::title) == "c1");
  if (url().starts_with("postgresql")) {
    EXPECT_THROW(c1.all(), strata::DataError);
    s.rollback();
  } else {
    EXPECT_EQ(c1.one(), std::nullopt);
  }
  EXPECT_EQ(s.select(ratio).filter(col(&Post::title) == "c2").one(), 1);
}

// ---- bulk statements ---------------------------------------------------------------------------

TEST_P(Blog, bulk_statements_refuse_joins_and_take_subqueries_instead) {
  auto joined = session().query<Post>().join(&Post::author).filter(col(&User::username) == "carl");
  EXPECT_THROW(joined.delete_(), strata::ArgumentError);
  EXPECT_THROW(joined.update(strata::set(&Post::votes, 0)), strata::ArgumentError);
  EXPECT_THROW(session().query<Post>().distinct().delete_(), strata::ArgumentError);

  auto carls = session().query<User>().filter(col(&User::username) == "carl").select(&User::id);
  EXPECT_EQ(session().query<Post>().filter(col(&Post::user_id).in_(carls)).delete_(), 3);
  EXPECT_EQ(session().query<Post>().count(), 3);
}

TEST_P(Blog, bulk_update_from_expressions_gives_loaded_objects_what_the_database_computed) {
  auto& s = session();
  auto c1 = s.query<Post>().filter(col(&Post::title) == "c1").one();
  auto a1 = s.query<Post>().filter(col(&Post::title) == "a1").one();
  auto carl = s.query<User>().filter(col(&User::username) == "carl").one();
  clear_sql();
  auto matched = s.query<Post>()
                     .filter(col(&Post::user_id) == carl->id)
                     .update(strata::set(&Post::votes, col(&Post::votes) + 10),
                             strata::set(&Post::rating, col(&Post::rating) * 2.0),
                             strata::set(&Post::title, col(&Post::title) + "!"),
                             strata::set(&Post::body, "edited"));
  EXPECT_EQ(matched, 3);
  auto written = writes();
  ASSERT_EQ(written.size(), 1u) << "a bulk update is one statement\n" << dump();
  EXPECT_TRUE(written[0].starts_with(
      spelled("UPDATE post SET votes = post.votes + ?, rating = post.rating * ?, "
              "title = post.title || ?, body = ? WHERE post.user_id = ?")))
      << written[0];
  EXPECT_EQ(c1->votes, 10) << "the loaded object kept its old value";
  EXPECT_EQ(c1->rating, 1.0);
  EXPECT_EQ(c1->title, "c1!");
  EXPECT_EQ(c1->body, "edited");
  EXPECT_FALSE(s.is_modified(c1)) << "the session would write the bulk change again";
  EXPECT_EQ(a1->votes, 3) << "a post that did not match was changed";
  clear_sql();
  s.commit();
  EXPECT_TRUE(writes().empty()) << "commit() wrote the bulk-updated objects again\n" << dump();
  EXPECT_EQ(s.query<Post>().filter(col(&Post::user_id) == carl->id).select(sum(&Post::votes))
                .scalar(),
            36);

  // Rolled back, the objects get their values back.
  s.query<Post>().filter(col(&Post::title) == "c1!").update(
      strata::set(&Post::votes, col(&Post::votes) * col(&Post::votes)));
  EXPECT_EQ(c1->votes, 100);
  s.rollback();
  EXPECT_EQ(c1->votes, 10);
  s.expunge_all();
  EXPECT_EQ(s.query<Post>().filter(col(&Post::title) == "c1!").one()->votes, 10);
}

TEST_P(Blog, bulk_update_of_a_key_from_an_expression_keeps_the_identity_map_in_step) {
  auto& s = session();
  auto dora = s.query<User>().filter(col(&User::username) == "dora").one();
  const auto old_id = dora->id;
  EXPECT_EQ(s.query<User>()
                .filter(col(&User::username) == "dora")
                .update(strata::set(&User::id, col(&User::id) + 100),
                        strata::set(&User::email, upper(&User::email))),
            1);
  EXPECT_EQ(dora->id, old_id + 100) << "the session's object kept the old key";
  EXPECT_EQ(dora->email, "DORA@EXAMPLE.COM");
  EXPECT_EQ(s.get<User>(old_id + 100), dora);
  EXPECT_EQ(s.get<User>(old_id), nullptr) << "the old key still finds the object";
  EXPECT_FALSE(s.is_modified(dora));
  s.commit();
  s.expunge_all();
  EXPECT_EQ(s.get<User>(old_id + 100)->email, "DORA@EXAMPLE.COM");
}

TEST_P(Blog, bulk_update_from_an_expression_with_nothing_loaded_is_the_statement_alone) {
  auto& s = session();
  clear_sql();
  EXPECT_EQ(s.query<Post>().update(strata::set(&Post::votes, col(&Post::votes) + 1)), 6);
  EXPECT_EQ(writes(), (std::vector<std::string>{spelled("UPDATE post SET votes = post.votes + ?")}))
      << "nothing to keep in step, nothing to return";
  EXPECT_TRUE(selects().empty()) << "nothing to keep in step, nothing to read\n" << dump();
  EXPECT_EQ(s.query<Post>().select(sum(&Post::votes)).scalar(), 21);
}

TEST_P(Blog, a_bulk_update_that_sets_a_column_twice_is_refused_before_anything_runs) {
  // PostgreSQL refused the statement ("multiple assignments to same column"), SQLite took the
  // last value.
  auto& s = session();
  clear_sql();
  try {
    s.query<Post>().update(strata::set(&Post::votes, 1), strata::set(&Post::rating, 2.0),
                           strata::set(&Post::votes, 2));
    ADD_FAILURE() << "a column set twice was accepted";
  } catch (const strata::ArgumentError& e) {
    EXPECT_EQ(std::string(e.what()),
              "update(): column 'votes' of Post is set twice; set each column once");
  }
  EXPECT_TRUE(writes().empty()) << dump();
  EXPECT_EQ(s.query<Post>().select(sum(&Post::votes)).scalar(), 15);
}

TEST_P(Blog, a_computed_value_the_member_cannot_hold_is_a_data_error_that_changes_nothing) {
  auto& s = session();
  auto c1 = s.query<Post>().filter(col(&Post::title) == "c1").one();
  auto too_many = col(&Post::votes) + std::int64_t{3'000'000'000};  // votes is an int32
  EXPECT_THROW(s.query<Post>().filter(col(&Post::title) == "c1").update(
                   strata::set(&Post::votes, too_many)),
               strata::DataError);
  EXPECT_EQ(c1->votes, 0) << "the loaded object took part of the statement";
  if (!url().starts_with("postgresql")) {  // PostgreSQL refuses the UPDATE itself
    EXPECT_EQ(s.query<Post>().select(sum(&Post::votes)).scalar(), 15)
        << "SQLite kept the value the member could not take";
  }
  s.rollback();
  EXPECT_EQ(s.query<Post>().select(sum(&Post::votes)).scalar(), 15);
}

}  // namespace
