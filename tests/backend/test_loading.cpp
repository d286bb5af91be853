// Loading strategies on a real database: joined (one SELECT with LEFT OUTER JOINs, LIMIT
// counting parents), selectin (one more SELECT with IN, 500 keys a statement), raise (no
// implicit loads: N+1 caught), chosen in the mapping or per query; eager loads never overwrite
// a collection already loaded; statements counted for 100 owners; and the autoflush before a
// lazy load, narrowed to what can change its rows.
#include <algorithm>
#include <string>
#include <vector>

#include "backend.hpp"

namespace {

using strata::col;
using Sql = std::vector<std::string>;

BACKEND_SUITE(LoadingTest);

constexpr int user_count = 100;

// 100 users (u000 ... u099), each with two posts; the session is then emptied.
class HundredUsers : public LoadingTest {
 protected:
  void SetUp() override {
    LoadingTest::SetUp();
    auto& s = session();
    for (int i = 0; i < user_count; ++i) {
      auto name = "u" + std::string(i < 10 ? "00" : "0") + std::to_string(i);
      auto u = s.add(User{.username = name, .email = name + "@x"});
      s.add(Post{.title = name + "-a", .author = u});
      s.add(Post{.title = name + "-b", .author = u});
    }
    s.commit();
    s.expunge_all();
    clear_sql();
  }
  // Touches every user's posts; returns how many there were.
  static std::size_t touch_posts(const std::vector<std::shared_ptr<User>>& users) {
    std::size_t n = 0;
    for (const auto& u : users)
      for (const auto& p : u->posts) n += p->author.get() == u ? 1 : 0;
    return n;
  }
  static std::size_t touch_authors(const std::vector<std::shared_ptr<Post>>& posts) {
    std::size_t n = 0;
    for (const auto& p : posts) n += p->author && p->author->id == p->user_id ? 1 : 0;
    return n;
  }
};
INSTANTIATE_TEST_SUITE_P(backends, HundredUsers, ::testing::ValuesIn(::backend::test_urls()),
                         ::backend::url_label);

// ann with posts "one" and "two", bob with none; the session is then emptied.
class Seeded : public ::backend::WithAnnAndBob<LoadingTest> {
 protected:
  std::string user_columns(std::string_view t) const {
    return spelled(std::string("{") + std::string(t) + "}.id, {" + std::string(t) +
                   "}.username, {" + std::string(t) + "}.email, {" + std::string(t) + "}.bio, {" +
                   std::string(t) + "}.role, {" + std::string(t) + "}.active");
  }
  std::string post_columns(std::string_view t) const {
    return spelled(std::string("{") + std::string(t) + "}.id, {" + std::string(t) + "}.title, {" +
                   std::string(t) + "}.body, {" + std::string(t) + "}.votes, {" + std::string(t) +
                   "}.rating, {" + std::string(t) + "}.user_id");
  }
};
INSTANTIATE_TEST_SUITE_P(backends, Seeded, ::testing::ValuesIn(::backend::test_urls()),
                         ::backend::url_label);

std::vector<std::string> titles(const strata::HasMany<Post>& posts) {
  std::vector<std::string> out;
  for (const auto& p : posts) out.push_back(p->title);
  return out;
}

TEST_P(LoadingTest, get_of_a_model_with_eager_collections_sees_a_key_set_by_hand) {
  // get() flushed only rows to add or remove before its query; a shelf's books, loaded with
  // it (selectin), then missed a book whose shelf_id was set by hand.
  auto& s = session();
  auto fiction = s.add(Shelf{.name = "fiction"});
  auto poetry = s.add(Shelf{.name = "poetry"});
  auto book = s.add(Book{.title = "Odes", .shelf = fiction});
  s.commit();
  const auto poetry_id = poetry->id, book_id = book->id;
  s.expunge_all();
  auto moved = s.get<Book>(book_id);
  moved->shelf_id = poetry_id;
  auto shelf = s.get<Shelf>(poetry_id);
  ASSERT_NE(shelf, nullptr);
  ASSERT_EQ(shelf->books.size(), 1u) << "the moved book is missing";
  EXPECT_EQ(shelf->books[0], moved);
}

// ---- statements counted: the N+1 and its cures ------------------------------------------

TEST_P(HundredUsers, joinedload_loads_users_and_their_posts_in_one_statement) {
  auto users = session().query<User>().options(strata::joinedload(&User::posts)).all();
  ASSERT_EQ(users.size(), static_cast<std::size_t>(user_count))
      << "joined rows were not de-duplicated into one object per user";
  EXPECT_EQ(touch_posts(users), 2u * user_count);
  EXPECT_EQ(selects().size(), 1u) << dump();
}

TEST_P(HundredUsers, selectinload_loads_users_and_their_posts_in_two_statements) {
  auto users = session().query<User>().options(strata::selectinload(&User::posts)).all();
  ASSERT_EQ(users.size(), static_cast<std::size_t>(user_count));
  EXPECT_EQ(touch_posts(users), 2u * user_count);
  EXPECT_EQ(selects().size(), 2u) << dump();
}

TEST_P(HundredUsers, lazy_loading_users_posts_takes_one_statement_per_user) {
  auto users = session().query<User>().all();
  EXPECT_EQ(touch_posts(users), 2u * user_count);
  EXPECT_EQ(selects().size(), 1u + user_count) << "the N+1 this test counts changed";
}

TEST_P(HundredUsers, joinedload_of_post_authors_is_one_statement) {
  auto posts = session().query<Post>().options(strata::joinedload(&Post::author)).all();
  ASSERT_EQ(posts.size(), 2u * user_count);
  EXPECT_EQ(touch_authors(posts), 2u * user_count);
  EXPECT_EQ(selects().size(), 1u) << dump();
}

TEST_P(HundredUsers, selectinload_of_post_authors_is_two_statements) {
  auto posts = session().query<Post>().options(strata::selectinload(&Post::author)).all();
  ASSERT_EQ(posts.size(), 2u * user_count);
  EXPECT_EQ(touch_authors(posts), 2u * user_count);
  EXPECT_EQ(selects().size(), 2u) << dump();
}

TEST_P(HundredUsers, lazy_loading_post_authors_takes_one_statement_per_author) {
  auto posts = session().query<Post>().all();
  EXPECT_EQ(touch_authors(posts), 2u * user_count);
  EXPECT_EQ(selects().size(), 1u + user_count)
      << "each author is one SELECT, the second post of an author comes from the identity map";
}

TEST_P(HundredUsers, raiseload_catches_the_n_plus_one) {
  auto users = session().query<User>().options(strata::raiseload(&User::posts)).all();
  ASSERT_EQ(users.size(), static_cast<std::size_t>(user_count));
  clear_sql();
  try {
    touch_posts(users);
    FAIL() << "touching an unloaded relationship under raiseload() loaded it";
  } catch (const strata::InvalidRequestError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("User.posts"), std::string::npos) << "relationship not named: " << what;
    EXPECT_NE(what.find("lazy='raise'"), std::string::npos) << what;
  }
  EXPECT_TRUE(selects().empty()) << dump();
}

// ---- joined -------------------------------------------------------------------------------

TEST_P(Seeded, joinedload_is_one_left_outer_join_with_each_parents_rows_together) {
  auto users = session().query<User>().options(strata::joinedload(&User::posts)).all();
  EXPECT_EQ(selects(),
            (Sql{"SELECT " + user_columns("user") + ", " + post_columns("post_1") +
                 spelled(" FROM {user} LEFT OUTER JOIN {post} AS {post_1} ON "
                         "{user}.id = {post_1}.user_id ORDER BY {user}.id, {post_1}.id")}))
      << dump();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(titles(users[0]->posts), (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(users[1]->posts.loaded()) << "a user without posts was left unloaded";
  EXPECT_TRUE(users[1]->posts.empty());
  EXPECT_EQ(users[0]->posts[0]->author.get(), users[0])
      << "the loaded posts' author was not back-populated";
  EXPECT_EQ(selects().size(), 1u) << dump();
}

TEST_P(Seeded, joinedload_with_limit_and_offset_counts_parents_not_joined_rows) {
  auto& s = session();
  auto carl = s.add(User{.username = "carl", .email = "carl@x"});
  s.add(Post{.title = "three", .author = carl});
  s.commit();
  s.expunge_all();
  clear_sql();

  auto users = s.query<User>()
                   .options(strata::joinedload(&User::posts))
                   .order_by(strata::desc(&User::username))
                   .limit(2)
                   .offset(1)
                   .all();
  ASSERT_EQ(users.size(), 2u) << "LIMIT counted joined rows rather than users\n" << dump();
  EXPECT_EQ(users[0]->username, "bob");
  EXPECT_EQ(users[1]->username, "ann");
  EXPECT_EQ(titles(users[1]->posts), (std::vector<std::string>{"one", "two"}))
      << "LIMIT cut a user's collection short";
  ASSERT_EQ(selects().size(), 1u) << dump();
  EXPECT_EQ(selects().front(),
            "SELECT " + user_columns("anon_1") + ", " + post_columns("post_1") +
                " FROM (SELECT " + user_columns("user") +
                spelled(" FROM {user} ORDER BY {user}.username DESC LIMIT ? OFFSET ?) AS "
                        "{anon_1} LEFT OUTER JOIN {post} AS {post_1} ON {anon_1}.id = "
                        "{post_1}.user_id ORDER BY {anon_1}.username DESC, {anon_1}.id, "
                        "{post_1}.id"))
      << "the parents' query is not wrapped in a subquery the joins hang off";
  EXPECT_EQ(statements().back().params, "2, 1") << dump();
}

// The subquery's LIMIT and OFFSET sit between parameters: the filter's before them, and the
// parents' ORDER BY, repeated outside the subquery, after them.
TEST_P(Seeded, joinedload_binds_the_subquerys_limit_and_offset_in_text_order) {
  auto& s = session();
  auto carl = s.add(User{.username = "carl", .email = "carl@x", .bio = "zz"});
  s.add(Post{.title = "three", .author = carl});
  s.add(User{.username = "dan", .email = "dan@x", .bio = "zzz"});
  s.commit();
  s.expunge_all();
  clear_sql();

  // By bio (none: "a") descending, then name: dan (filtered out), carl, ann, bob.
  auto users = s.query<User>()
                   .options(strata::joinedload(&User::posts))
                   .filter(col(&User::username) != "dan")
                   .order_by(strata::desc(strata::coalesce(col(&User::bio), "a")),
                             &User::username)
                   .limit(2)
                   .offset(1)
                   .all();
  ASSERT_EQ(users.size(), 2u) << dump();
  EXPECT_EQ(users[0]->username, "ann");
  EXPECT_EQ(users[1]->username, "bob");
  EXPECT_EQ(titles(users[0]->posts), (std::vector<std::string>{"one", "two"}));
  ASSERT_EQ(selects().size(), 1u) << dump();
  const std::string run = selects().front();
  EXPECT_NE(run.find(" LIMIT ? OFFSET ?) AS "), std::string::npos)
      << "the parents are not limited inside the subquery\n" << dump();
  EXPECT_EQ(statements().back().params, "'dan', 'a', 2, 1, 'a'")
      << "the parameters are not bound in the order of their placeholders\n" << dump();
}

// GROUP BY <parent key> over the joined rows would fold each parent's collection into one
// row (SQLite) or be refused (PostgreSQL: the target's columns are not grouped): the
// parents' grouped query is a subquery that the joins hang off.
TEST_P(Seeded, joinedload_with_group_by_and_having_loads_whole_collections) {
  auto& s = session();
  auto carl = s.add(User{.username = "carl", .email = "carl@x"});
  s.add(Post{.title = "three", .author = carl});
  s.commit();
  s.expunge_all();
  clear_sql();

  auto users = s.query<User>()
                   .join(&User::posts)
                   .group_by(&User::id)
                   .having(strata::count(col(&Post::id)) >= 2)
                   .options(strata::joinedload(&User::posts))
                   .all();
  ASSERT_EQ(users.size(), 1u) << dump();
  EXPECT_EQ(users[0]->username, "ann");
  EXPECT_EQ(titles(users[0]->posts), (std::vector<std::string>{"one", "two"}))
      << "GROUP BY folded the joined rows of the collection into one\n" << dump();
  EXPECT_EQ(selects().size(), 1u) << dump();
}

// With a LIMIT the parents are a subquery; an ORDER BY on a joined model's column is selected
// in it (as SQLAlchemy does), since the joined table is not visible outside.
TEST_P(Seeded, joinedload_with_limit_orders_by_a_column_of_a_joined_model) {
  auto& s = session();
  auto carl = s.add(User{.username = "carl", .email = "carl@x"});
  s.add(Post{.title = "three", .votes = 7, .author = carl});
  s.commit();
  s.query<Post>().filter(col(&Post::title) == "two").update(strata::set(&Post::votes, 3));
  s.commit();
  s.expunge_all();
  clear_sql();

  auto users = s.query<User>()
                   .join(&User::posts)
                   .order_by(strata::desc(&Post::votes), &User::id)
                   .limit(2)
                   .options(strata::joinedload(&User::posts))
                   .all();
  ASSERT_EQ(users.size(), 2u) << dump();
  EXPECT_EQ(users[0]->username, "carl");
  EXPECT_EQ(users[1]->username, "ann");
  EXPECT_EQ(titles(users[1]->posts), (std::vector<std::string>{"one", "two"})) << dump();
  EXPECT_EQ(selects().size(), 1u) << dump();
}

// DISTINCT parents ordered by another model's column: the column would have to be selected
// with the parents, which would then be distinct by it too (ann once per post).
TEST_P(Seeded, joinedload_with_distinct_and_limit_refuses_an_order_by_another_models_column) {
  auto& s = session();
  EXPECT_THROW(s.query<User>()
                   .join(&User::posts)
                   .distinct()
                   .order_by(strata::desc(&Post::votes))
                   .limit(2)
                   .options(strata::joinedload(&User::posts))
                   .all(),
               strata::ArgumentError);
  auto users = s.query<User>()
                   .join(&User::posts)
                   .distinct()
                   .order_by(&User::id)
                   .limit(2)
                   .options(strata::joinedload(&User::posts))
                   .all();
  ASSERT_EQ(users.size(), 1u) << dump();  // ann, once: only she has posts
  EXPECT_EQ(titles(users[0]->posts), (std::vector<std::string>{"one", "two"})) << dump();
}

// The eager join's alias (post_1) must not be one the query already uses.
TEST_P(Seeded, joinedload_next_to_a_join_under_an_alias_named_like_its_own) {
  auto& s = session();
  auto post_1 = strata::aliased<Post>("post_1");
  auto users = s.query<User>()
                   .join(post_1, &User::posts)
                   .filter(post_1(&Post::title) == "one")
                   .options(strata::joinedload(&User::posts))
                   .all();
  ASSERT_EQ(users.size(), 1u) << dump();
  EXPECT_EQ(titles(users[0]->posts), (std::vector<std::string>{"one", "two"})) << dump();
}

TEST_P(Seeded, joinedload_returns_each_parent_once_in_the_query_order) {
  auto& s = session();
  for (auto name : {"dan", "eve", "fay"}) {
    auto u = s.add(User{.username = name, .email = std::string(name) + "@x"});
    for (int i = 0; i < 3; ++i)
      s.add(Post{.title = std::string(name) + std::to_string(i), .author = u});
  }
  s.commit();
  s.expunge_all();
  auto users = s.query<User>()
                   .options(strata::joinedload(&User::posts))
                   .order_by(strata::desc(&User::username))
                   .all();
  std::vector<std::string> names;
  for (const auto& u : users) names.push_back(u->username);
  EXPECT_EQ(names, (std::vector<std::string>{"fay", "eve", "dan", "bob", "ann"}));
  EXPECT_EQ(titles(users[0]->posts), (std::vector<std::string>{"fay0", "fay1", "fay2"}));
}

TEST_P(Seeded, joinedload_of_a_many_to_one_loads_null_where_the_foreign_key_is_null) {
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  s.add(Address{.street = "1 Main St", .user = ann});
  s.add(Address{.street = "nowhere"});
  s.commit();
  s.expunge_all();
  clear_sql();
  auto addresses =
      s.query<Address>().options(strata::joinedload(&Address::user)).order_by(&Address::id).all();
  ASSERT_EQ(addresses.size(), 2u);
  EXPECT_TRUE(addresses[1]->user.loaded()) << "a null many-to-one was left unloaded";
  EXPECT_EQ(addresses[1]->user.get(), nullptr);
  ASSERT_NE(addresses[0]->user.get(), nullptr);
  EXPECT_EQ(addresses[0]->user->username, "ann");
  EXPECT_EQ(selects().size(), 1u) << dump();
  EXPECT_NE(selects().front().find(spelled("LEFT OUTER JOIN {user} AS {user_1} ON {user_1}.id = "
                                           "{address}.user_id")),
            std::string::npos)
      << dump();
}

TEST_P(Seeded, selectinload_of_a_many_to_one_loads_null_where_the_foreign_key_is_null) {
  auto& s = session();
  auto bob = s.get<User>(bob_id);
  s.add(Address{.street = "2 Side St", .user = bob});
  s.add(Address{.street = "nowhere"});
  s.commit();
  s.expunge_all();
  clear_sql();
  auto addresses =
      s.query<Address>().options(strata::selectinload(&Address::user)).order_by(&Address::id).all();
  ASSERT_EQ(addresses.size(), 2u);
  ASSERT_EQ(selects().size(), 2u) << dump();
  EXPECT_EQ(statements().back().params, std::to_string(bob_id))
      << "the NULL foreign key went into the IN list\n"
      << dump();
  clear_sql();
  EXPECT_TRUE(addresses[1]->user.loaded());
  EXPECT_EQ(addresses[1]->user.get(), nullptr);
  EXPECT_EQ(addresses[0]->user->username, "bob");
  EXPECT_TRUE(selects().empty()) << dump();
}

TEST_P(Seeded, first_one_and_paginate_load_eagerly_too) {
  auto& s = session();
  auto q = s.query<User>().options(strata::joinedload(&User::posts)).order_by(&User::id);
  auto first = q.first();
  ASSERT_TRUE(first);
  EXPECT_EQ(titles(first->posts), (std::vector<std::string>{"one", "two"}))
      << "first()'s LIMIT 1 cut the collection to one post";
  EXPECT_EQ(selects().size(), 1u) << dump();
  s.expunge_all();
  clear_sql();

  auto one = q.filter(col(&User::username) == "ann").one();
  EXPECT_EQ(one->posts.size(), 2u) << "one()'s LIMIT 2 counted joined rows";
  s.expunge_all();
  clear_sql();

  auto page = s.query<User>()
                  .options(strata::selectinload(&User::posts))
                  .order_by(&User::id)
                  .paginate(1, 1);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0]->posts.size(), 2u);
  EXPECT_EQ(selects().size(), 3u) << "count, the page, its posts\n" << dump();
}

// ---- selectin -----------------------------------------------------------------------------

TEST_P(Seeded, selectinload_is_one_in_query_and_marks_empty_collections_loaded) {
  auto users =
      session().query<User>().options(strata::selectinload(&User::posts)).order_by(&User::id).all();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(selects(),
            (Sql{"SELECT " + user_columns("user") + spelled(" FROM {user} ORDER BY {user}.id"),
                 "SELECT " + post_columns("post") +
                     spelled(" FROM {post} WHERE {post}.user_id IN (?, ?) ORDER BY {post}.id")}))
      << dump();
  clear_sql();
  EXPECT_EQ(titles(users[0]->posts), (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(users[1]->posts.loaded()) << "bob's empty collection was left unloaded";
  EXPECT_TRUE(users[1]->posts.empty());
  EXPECT_EQ(users[0]->posts[1]->author.get(), users[0]);
  EXPECT_TRUE(selects().empty()) << dump();
}

TEST_P(LoadingTest, selectinload_sends_500_keys_a_statement) {
  auto& s = session();
  std::vector<std::shared_ptr<User>> made;
  for (int i = 0; i < 1001; ++i)
    made.push_back(
        s.add(User{.username = "n" + std::to_string(i), .email = std::to_string(i) + "@x"}));
  s.add(Post{.title = "first", .author = made.front()});
  s.add(Post{.title = "last", .author = made.back()});
  s.commit();
  s.expunge_all();
  clear_sql();

  auto users =
      s.query<User>().options(strata::selectinload(&User::posts)).order_by(&User::id).all();
  ASSERT_EQ(users.size(), 1001u);
  auto run = selects();
  ASSERT_EQ(run.size(), 4u) << "expected the users, then 500 + 500 + 1 keys";
  std::vector<long> keys;
  for (std::size_t i = 1; i < run.size(); ++i)
    keys.push_back(std::count(run[i].begin(), run[i].end(), '?'));
  EXPECT_EQ(keys, (std::vector<long>{500, 500, 1}));
  clear_sql();
  EXPECT_EQ(titles(users.front()->posts), (std::vector<std::string>{"first"}));
  EXPECT_EQ(titles(users.back()->posts), (std::vector<std::string>{"last"}));
  std::size_t empty = 0;
  for (const auto& u : users) empty += u->posts.loaded() && u->posts.empty() ? 1 : 0;
  EXPECT_EQ(empty, 999u);
  EXPECT_TRUE(selects().empty()) << "a collection of a later chunk loaded lazily";
}

TEST_P(Seeded, selectinload_of_authors_skips_those_the_session_holds) {
  auto& s = session();
  auto carl = s.add(User{.username = "carl", .email = "carl@x"});
  s.add(Post{.title = "three", .author = carl});
  s.commit();
  const auto carl_id = carl->id;
  s.expunge_all();
  auto ann = s.get<User>(ann_id);
  clear_sql();

  auto posts =
      s.query<Post>().options(strata::selectinload(&Post::author)).order_by(&Post::id).all();
  ASSERT_EQ(posts.size(), 3u);
  ASSERT_EQ(selects().size(), 2u) << dump();
  EXPECT_EQ(statements().back().params, std::to_string(carl_id))
      << "the IN list asked for an author the identity map holds\n"
      << dump();
  EXPECT_EQ(posts[0]->author.get(), ann);
  EXPECT_EQ(posts[2]->author->username, "carl");
}

TEST_P(Seeded, joined_and_selectin_in_one_query) {
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  s.add(Address{.street = "1 Main St", .user = ann});
  s.commit();
  s.expunge_all();
  clear_sql();
  auto users =
      s.query<User>()
          .options(strata::joinedload(&User::posts), strata::selectinload(&User::addresses))
          .order_by(&User::id)
          .all();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0]->posts.size(), 2u);
  EXPECT_EQ(users[0]->addresses.size(), 1u);
  EXPECT_TRUE(users[1]->addresses.empty());
  EXPECT_EQ(selects().size(), 2u) << dump();
}

// ---- eager loads and objects the session already holds ---------------------------------

TEST_P(Seeded, eager_loads_keep_a_collection_loaded_and_changed_in_memory) {
  for (auto option : {strata::joinedload(&User::posts), strata::selectinload(&User::posts)}) {
    auto& s = session();
    s.set_autoflush(false);
    auto ann = s.get<User>(ann_id);
    auto bob = s.get<User>(bob_id);
    auto one = ann->posts[0];
    ann->posts.remove(one);  // pending: not flushed
    auto three = std::make_shared<Post>(Post{.title = "three"});
    ann->posts.append(three);
    ASSERT_FALSE(bob->posts.loaded());

    auto users = s.query<User>().options(option).order_by(&User::id).all();
    ASSERT_EQ(users.size(), 2u);
    EXPECT_EQ(users[0], ann);
    EXPECT_EQ(titles(ann->posts), (std::vector<std::string>{"two", "three"}))
        << "an eager load overwrote a collection changed in memory";
    EXPECT_TRUE(bob->posts.loaded()) << "an unloaded collection of a held object was not filled";
    EXPECT_TRUE(bob->posts.empty());
    s.rollback();
    s.expunge_all();
    s.set_autoflush(true);
  }
}

// ---- strategies of the mapping ------------------------------------------------------------

class Library : public LoadingTest {
 protected:
  void SetUp() override {
    LoadingTest::SetUp();
    auto& s = session();
    auto fiction = s.add(Shelf{.name = "fiction"});
    s.add(Shelf{.name = "empty"});
    auto dune = s.add(Book{.title = "Dune", .shelf = fiction});
    s.add(Book{.title = "Emma", .shelf = fiction});
    s.add(Book{.title = "loose"});
    s.add(Note{.text = "sand", .book = dune});
    s.commit();
    fiction_id = fiction->id;
    dune_id = dune->id;
    s.expunge_all();
    clear_sql();
  }
  std::int64_t fiction_id = 0, dune_id = 0;
};
INSTANTIATE_TEST_SUITE_P(backends, Library, ::testing::ValuesIn(::backend::test_urls()),
                         ::backend::url_label);

TEST_P(Library, mapping_selectin_loads_collections_with_every_query_and_get) {
  auto& s = session();
  auto shelves = s.query<Shelf>().order_by(&Shelf::id).all();
  ASSERT_EQ(shelves.size(), 2u);
  EXPECT_EQ(selects().size(), 2u) << "lazy='selectin' did not load books with the shelves\n"
                                  << dump();
  EXPECT_TRUE(shelves[0]->books.loaded());
  EXPECT_EQ(shelves[0]->books.size(), 2u);
  EXPECT_TRUE(shelves[1]->books.loaded() && shelves[1]->books.empty());
  s.expunge_all();
  clear_sql();

  auto fiction = s.get<Shelf>(fiction_id);
  ASSERT_TRUE(fiction);
  EXPECT_TRUE(fiction->books.loaded()) << "get() ignored the mapping's lazy='selectin'";
  EXPECT_EQ(fiction->books.size(), 2u);
  EXPECT_EQ(selects().size(), 2u) << dump();
  EXPECT_EQ(s.get<Shelf>(fiction_id + 1000), nullptr);
}

TEST_P(Library, mapping_joined_loads_a_many_to_one_in_the_same_statement) {
  auto& s = session();
  auto books = s.query<Book>().order_by(&Book::id).all();
  ASSERT_EQ(books.size(), 3u);
  ASSERT_EQ(selects().size(), 1u) << dump();
  EXPECT_NE(selects().front().find(spelled("LEFT OUTER JOIN {shelf} AS {shelf_1} ON {shelf_1}.id = "
                                           "{book}.shelf_id")),
            std::string::npos)
      << dump();
  EXPECT_EQ(books[0]->shelf->name, "fiction");
  EXPECT_TRUE(books[2]->shelf.loaded());
  EXPECT_EQ(books[2]->shelf.get(), nullptr);
  s.expunge_all();
  clear_sql();

  auto dune = s.get<Book>(dune_id);
  EXPECT_TRUE(dune->shelf.loaded()) << "get() ignored the mapping's lazy='joined'";
  EXPECT_EQ(selects().size(), 1u) << dump();
  s.expunge_all();
  clear_sql();

  auto first = s.query<Book>().order_by(&Book::id).first();
  EXPECT_TRUE(first->shelf.loaded());
  auto page = s.query<Book>().order_by(&Book::id).paginate(1, 2);
  EXPECT_TRUE(page.items[1]->shelf.loaded());
}

TEST_P(Library, mapping_joined_many_to_one_with_group_by_loads_the_target) {
  auto& s = session();
  auto books = s.query<Book>()
                   .join(&Book::notes)
                   .group_by(&Book::id)
                   .having(strata::count(col(&Note::id)) >= 1)
                   .all();
  ASSERT_EQ(books.size(), 1u) << dump();
  EXPECT_EQ(books[0]->title, "Dune");
  EXPECT_TRUE(books[0]->shelf.loaded()) << dump();
  EXPECT_EQ(books[0]->shelf->name, "fiction");
  EXPECT_EQ(selects().size(), 1u) << dump();
}

TEST_P(Library, lazyload_overrides_the_mapping) {
  auto& s = session();
  auto books = s.query<Book>()
                   .options(strata::lazyload(&Book::shelf), strata::lazyload(&Book::notes))
                   .order_by(&Book::id)
                   .all();
  EXPECT_EQ(selects().front().find("JOIN"), std::string::npos) << "lazyload() still joined\n"
                                                               << dump();
  EXPECT_FALSE(books[0]->shelf.loaded());
  EXPECT_EQ(books[0]->notes.size(), 1u) << "lazyload() did not lift the mapping's lazy='raise'";
  EXPECT_EQ(books[0]->shelf->name, "fiction");
}

TEST_P(Library, mapping_raise_refuses_implicit_loads_but_not_loaded_relationships) {
  auto& s = session();
  auto dune = s.get<Book>(dune_id);
  clear_sql();
  try {
    (void)dune->notes.size();
    FAIL() << "an unloaded lazy='raise' relationship loaded";
  } catch (const strata::InvalidRequestError& e) {
    EXPECT_NE(std::string(e.what()).find("Book.notes"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("lazy='raise'"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(selects().empty()) << dump();

  auto loaded = s.query<Book>().options(strata::selectinload(&Book::notes)).all();
  EXPECT_EQ(dune->notes.size(), 1u) << "an eagerly loaded lazy='raise' relationship refused";
  EXPECT_EQ(dune->notes[0]->text, "sand");

  auto fresh = s.add(Book{.title = "new"});
  EXPECT_TRUE(fresh->notes.empty()) << "a new object's lazy='raise' relationship refused";
  auto note = std::make_shared<Note>(Note{.text = "hi"});
  fresh->notes.append(note);
  s.commit();
  EXPECT_EQ(fresh->notes.size(), 1u) << "an assigned lazy='raise' relationship refused";
  EXPECT_EQ(note->book.get(), fresh);
}

TEST_P(Library, lazy_raise_does_not_stop_the_flush_loading_what_a_delete_needs) {
  // lazy='raise' refuses the program's own reads; the flush loads a deleted book's notes to
  // know what becomes of them (SQLAlchemy's unit of work does so since 2.0.8).
  auto& s = session();
  auto bare = s.add(Book{.title = "bare"});
  s.commit();
  const auto bare_id = bare->id;
  s.expunge_all();
  s.delete_(s.get<Book>(bare_id));
  EXPECT_NO_THROW(s.commit());
  EXPECT_EQ(s.get<Book>(bare_id), nullptr);
  // With a note, whose NOT NULL key cannot let go: the flush found it, and says so.
  s.delete_(s.get<Book>(dune_id));
  try {
    s.commit();
    FAIL() << "a book was deleted from under its note";
  } catch (const strata::IntegrityError& e) {
    EXPECT_NE(std::string(e.what()).find("Book.notes"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("lazy='raise'"), std::string::npos) << e.what();
  }
  s.rollback();
  EXPECT_NE(s.get<Book>(dune_id), nullptr);
  EXPECT_THROW((void)s.get<Book>(dune_id)->notes.size(), strata::InvalidRequestError)
      << "the flush's load lifted lazy='raise' for the program";
}

TEST_P(Library, get_of_an_object_the_session_holds_runs_no_sql) {
  auto& s = session();
  auto shelf = s.get<Shelf>(fiction_id);
  clear_sql();
  EXPECT_EQ(s.get<Shelf>(fiction_id), shelf);
  EXPECT_TRUE(selects().empty()) << dump();
}

TEST_P(Seeded, raiseload_of_a_many_to_one_refuses_and_lazyload_lifts_it) {
  auto& s = session();
  auto posts = s.query<Post>().options(strata::raiseload(&Post::author)).order_by(&Post::id).all();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_THROW((void)posts[0]->author.get(), strata::InvalidRequestError);
  auto again = s.query<Post>().options(strata::lazyload(&Post::author)).order_by(&Post::id).all();
  EXPECT_EQ(again[0], posts[0]);
  EXPECT_EQ(posts[0]->author->username, "ann")
      << "lazyload() of a later query did not lift raiseload() of an unloaded relationship";
}

// ---- misuse -------------------------------------------------------------------------------

TEST_P(Library, loader_option_for_a_member_not_in_the_mapping_is_an_argument_error) {
  try {
    (void)session().query<Shelf>().options(strata::joinedload(&Shelf::unmapped));
    FAIL() << "options() took a member that the mapping does not declare";
  } catch (const strata::ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("not a relationship of Shelf"), std::string::npos)
        << e.what();
  }
}

TEST_P(Seeded, stream_refuses_loader_options) {
  EXPECT_THROW((void)session().query<User>().options(strata::joinedload(&User::posts)).stream(),
               strata::ArgumentError);
}

// ---- the autoflush before a lazy load ----------------------------------------------------

TEST_P(Seeded, lazy_load_flushes_a_foreign_key_changed_by_hand_first) {
  auto& s = session();
  auto one = s.get<Post>(one_id);
  auto bob = s.get<User>(bob_id);
  one->user_id = bob_id;  // a column, not the relationship
  clear_sql();
  ASSERT_EQ(bob->posts.size(), 1u) << "the lazy load did not see the changed foreign key\n"
                                   << dump();
  EXPECT_EQ(bob->posts[0], one);
  EXPECT_EQ(writes(), (Sql{spelled("UPDATE {post} SET user_id = ? WHERE {post}.id = ?")}))
      << dump();
}

// The scan for hand-changed foreign keys goes through the session's posts chunk by chunk (256
// objects a chunk), past slots freed by expunge(): a change in the last chunk is seen.
TEST_P(Seeded, lazy_load_sees_a_foreign_key_changed_by_hand_among_many_objects) {
  auto& s = session();
  {
    auto ann = s.get<User>(ann_id);
    for (int i = 0; i < 700; ++i) s.add(Post{.title = "p" + std::to_string(i), .author = ann});
    s.commit();
    s.expunge_all();
  }
  auto posts = s.query<Post>().order_by(strata::asc(&Post::id)).all();
  ASSERT_EQ(posts.size(), 702u);
  for (int i = 0; i < 20; ++i) s.expunge(posts[static_cast<std::size_t>(i) * 30]);
  auto bob = s.get<User>(bob_id);
  auto moved = posts.back();
  moved->user_id = bob_id;
  clear_sql();
  ASSERT_EQ(bob->posts.size(), 1u) << "the lazy load did not see the changed foreign key\n"
                                   << dump();
  EXPECT_EQ(bob->posts[0], moved);
  EXPECT_EQ(writes(), (Sql{spelled("UPDATE {post} SET user_id = ? WHERE {post}.id = ?")}))
      << dump();
  // Nothing changed since: the next lazy load writes nothing.
  auto ann = s.get<User>(ann_id);
  clear_sql();
  EXPECT_EQ(ann->posts.size(), 701u);
  EXPECT_TRUE(writes().empty()) << dump();
}

TEST_P(Seeded, without_autoflush_a_lazy_load_flushes_nothing) {
  auto& s = session();
  s.set_autoflush(false);
  auto one = s.get<Post>(one_id);
  auto bob = s.get<User>(bob_id);
  one->user_id = bob_id;
  clear_sql();
  EXPECT_TRUE(bob->posts.empty()) << "the lazy load flushed although autoflush is off\n"
                                  << dump();
  EXPECT_TRUE(writes().empty()) << dump();
  s.commit();  // the change is still written, by the commit's flush
  auto other = db().new_session();
  EXPECT_EQ(other.get<Post>(one_id)->user_id, bob_id);
}

TEST_P(Seeded, inside_no_autoflush_a_lazy_load_flushes_nothing) {
  auto& s = session();
  auto one = s.get<Post>(one_id);
  auto bob = s.get<User>(bob_id);
  one->user_id = bob_id;
  clear_sql();
  {
    auto guard = s.no_autoflush();
    EXPECT_TRUE(bob->posts.empty()) << "the lazy load flushed inside no_autoflush()\n"
                                    << dump();
    EXPECT_TRUE(writes().empty()) << dump();
  }
  // Autoflush is back: the next query writes the change first.
  EXPECT_EQ(s.query<Post>().filter(col(&Post::user_id) == bob_id).count(), 1) << dump();
  EXPECT_EQ(writes(), (Sql{spelled("UPDATE {post} SET user_id = ? WHERE {post}.id = ?")}))
      << dump();
}

TEST_P(Seeded, lazy_load_flushes_a_new_related_object_first) {
  auto& s = session();
  auto bob = s.get<User>(bob_id);
  auto post = s.add(Post{.title = "by bob", .author = bob});
  EXPECT_EQ(bob->posts.size(), 1u) << dump();
  EXPECT_EQ(bob->posts[0], post);
}

TEST_P(Seeded, lazy_load_leaves_unrelated_changed_columns_to_the_next_flush) {
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  auto bob = s.get<User>(bob_id);
  auto one = s.get<Post>(one_id);
  ann->email = "ann@new";
  one->votes = 5;
  clear_sql();
  EXPECT_TRUE(bob->posts.empty());
  EXPECT_EQ(ann->posts.size(), 2u);
  EXPECT_TRUE(writes().empty()) << "a lazy load flushed changes that cannot alter its rows\n"
                                << dump();
  s.commit();
  EXPECT_EQ(writes().size(), 2u) << dump();
  auto other = db().new_session();
  EXPECT_EQ(other.get<User>(ann_id)->email, "ann@new");
  EXPECT_EQ(other.get<Post>(one_id)->votes, 5);
}

}  // namespace
