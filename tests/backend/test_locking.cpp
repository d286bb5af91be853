// Fresh rows and row locks: populate_existing() (the rows overwrite the objects the session
// holds), and with_for_update() (SELECT ... FOR UPDATE on PostgreSQL; the database's write
// lock, BEGIN IMMEDIATE, on SQLite) with its options, seen from a second connection.
#include <algorithm>
#include <chrono>
#include <string>

#include "backend.hpp"

namespace {

using strata::col;
using strata::ForUpdate;
using strata::joinedload;

class LockingBase : public ::backend::BackendTest {};
class LockingTest : public ::backend::WithAnnAndBob<LockingBase> {
 protected:
  // Another Database on the same data (another process, in effect) that waits at most 100 ms
  // for a lock.
  std::unique_ptr<strata::Database> impatient_other() {
    strata::DatabaseOptions options;
    options.engine.connect.busy_timeout = std::chrono::milliseconds(100);
    return open_another(options);
  }
  // Ann, loaded by the session, whose row another write then changes (email new@x) behind
  // the session's back, both committed; the captured SQL cleared.
  std::shared_ptr<User> ann_changed_behind_the_session() {
    auto& s = session();
    auto ann = s.get<User>(ann_id);
    s.commit();
    s.execute("UPDATE " + q("user") + " SET email = 'new@x' WHERE id = " + ph(1), {ann_id});
    s.commit();
    clear_sql();
    return ann;
  }
};
INSTANTIATE_TEST_SUITE_P(backends, LockingTest, ::testing::ValuesIn(::backend::test_urls()),
                         ::backend::url_label);

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The message of the OperationalError that f throws ("" when it throws none).
template <class F>
std::string operational_error(F f) {
  try {
    f();
  } catch (const strata::OperationalError& e) {
    return e.what();
  }
  return "";
}

// ---- populate_existing ---------------------------------------------------------------------

TEST_P(LockingTest, populate_existing_overwrites_the_objects_the_session_holds) {
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  ASSERT_EQ(ann->posts.size(), 2u);  // loaded
  s.commit();
  // Another writer (here plain SQL on the session's connection) changes the row and adds a
  // post: a query returns the session's object with its values in memory.
  s.execute("UPDATE " + q("user") + " SET email = " + ph(1) + " WHERE id = " + ph(2),
            {std::string("new@x"), ann_id});
  s.execute("INSERT INTO post (title, votes, rating, user_id) VALUES ('three', 0, 0, " +
            ph(1) + ")",
            {ann_id});
  auto plain = s.query<User>().filter_by(&User::username, "ann").one();
  EXPECT_EQ(plain, ann);
  EXPECT_EQ(ann->email, "ann@x") << "without populate_existing the object in memory wins";

  auto fresh = s.query<User>().filter_by(&User::username, "ann").populate_existing().one();
  EXPECT_EQ(fresh, ann) << "populate_existing made another object";
  EXPECT_EQ(ann->email, "new@x");
  EXPECT_FALSE(s.is_modified(ann)) << "the snapshot was not taken from the row";
  EXPECT_EQ(ann->posts.size(), 3u) << "the relationship was not loaded again";
  clear_sql();
  s.flush();
  EXPECT_TRUE(writes().empty()) << dump();

  // rollback() puts back what the transaction changed: the row as it was, and so the object.
  s.rollback();
  EXPECT_EQ(ann->email, "ann@x");
  EXPECT_EQ(s.query<User>().filter_by(&User::username, "ann").one()->email, "ann@x");
}

TEST_P(LockingTest, populate_existing_keeps_changes_autoflush_wrote_and_drops_unflushed_ones) {
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  ann->bio = "written";
  s.query<User>().populate_existing().all();  // its autoflush writes the change first
  EXPECT_EQ(ann->bio, "written");
  EXPECT_FALSE(s.is_modified(ann));

  {
    auto guard = s.no_autoflush();
    ann->bio = "never flushed";
    s.query<User>().populate_existing().all();
  }
  EXPECT_EQ(ann->bio, "written") << "with autoflush off the row's value replaces the change";
  EXPECT_FALSE(s.is_modified(ann));
  s.commit();
  if (shared_database()) {
    EXPECT_EQ(open_another()->session().get<User>(ann_id)->bio, "written");
  }
}

TEST_P(LockingTest, populate_existing_reaches_objects_loaded_eagerly_with_them) {
  auto& s = session();
  auto one = s.get<Post>(one_id);
  auto ann = s.get<User>(ann_id);
  s.commit();
  s.execute("UPDATE post SET title = 'renamed' WHERE id = " + ph(1), {one_id});
  s.execute("UPDATE " + q("user") + " SET email = 'new@x' WHERE id = " + ph(1), {ann_id});
  for (const auto* title : {"renamed", "again"}) {
    const bool joined = std::string(title) == "renamed";
    auto q = s.query<User>().filter_by(&User::id, ann_id).populate_existing();
    auto users = joined ? q.options(joinedload(&User::posts)).all()
                        : q.options(strata::selectinload(&User::posts)).all();
    ASSERT_EQ(users.size(), 1u);
    EXPECT_EQ(users[0], ann);
    EXPECT_EQ(ann->email, "new@x");
    EXPECT_EQ(one->title, title) << (joined ? "joinedload" : "selectinload");
    ASSERT_EQ(ann->posts.size(), 2u);
    EXPECT_TRUE(std::find(ann->posts.begin(), ann->posts.end(), one) != ann->posts.end());
    s.execute("UPDATE post SET title = 'again' WHERE id = " + ph(1), {one_id});
  }
  EXPECT_FALSE(s.is_modified(one));

  // A many-to-one target the session holds is read again rather than taken from the map.
  s.execute("UPDATE " + q("user") + " SET email = 'newer@x' WHERE id = " + ph(1), {ann_id});
  auto posts = s.query<Post>()
                   .filter_by(&Post::id, one_id)
                   .options(strata::selectinload(&Post::author))
                   .populate_existing()
                   .all();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]->author.get(), ann);
  EXPECT_EQ(ann->email, "newer@x");
}

// A self-referential model through two eager loads of one query: an employee comes back as
// a parent row, as a joined manager and as a report the selectin load reads. Every object
// takes its row, and what both loads filled stays loaded (no SQL on access).
TEST_P(LockingTest, populate_existing_through_two_eager_loads_of_one_model) {
  auto& s = session();
  auto ann = s.add(Employee{.name = "ann"});
  auto bob = s.add(Employee{.name = "bob", .manager = ann});
  s.add(Employee{.name = "carl", .manager = ann});
  s.add(Employee{.name = "dora", .manager = bob});
  s.commit();
  s.execute("UPDATE employee SET name = name || '!'");
  auto staff = s.query<Employee>()
                   .options(joinedload(&Employee::manager), strata::selectinload(&Employee::reports))
                   .order_by(&Employee::id)
                   .populate_existing()
                   .all();
  ASSERT_EQ(staff.size(), 4u);
  EXPECT_EQ(ann->name, "ann!");
  EXPECT_EQ(bob->name, "bob!");
  clear_sql();
  EXPECT_EQ(ann->reports.size(), 2u);
  EXPECT_EQ(bob->reports.size(), 1u);
  EXPECT_EQ(bob->manager.get(), ann);
  EXPECT_TRUE(sql().empty()) << "a relationship the query loaded was expired again:\n" << dump();
}

// ---- with_for_update -----------------------------------------------------------------------

TEST_P(LockingTest, with_for_update_reads_the_rows_as_they_are_now) {
  auto& s = session();
  auto ann = ann_changed_behind_the_session();
  auto locked = s.query<User>().filter_by(&User::id, ann_id).with_for_update().one();
  EXPECT_EQ(locked, ann);
  EXPECT_EQ(ann->email, "new@x") << "the locked row's values did not reach the object";
  const auto run = sql();
  ASSERT_FALSE(run.empty());
  if (row_write_locks()) {
    EXPECT_EQ(run.front(), "BEGIN") << dump();
    EXPECT_TRUE(contains(run.back(), " FOR UPDATE")) << dump();
  } else {
    EXPECT_EQ(run.front(), "BEGIN IMMEDIATE") << "SQLite takes the write lock at once\n" << dump();
    EXPECT_FALSE(contains(run.back(), "FOR UPDATE")) << dump();
  }
  s.commit();
}

TEST_P(LockingTest, get_with_populate_existing_reads_the_row_even_when_the_session_holds_it) {
  auto& s = session();
  auto ann = ann_changed_behind_the_session();
  EXPECT_EQ(s.get<User>(ann_id), ann);
  EXPECT_TRUE(sql().empty()) << "a plain get() of a held object ran SQL: " << dump();
  EXPECT_NE(ann->email, "new@x");
  EXPECT_EQ(s.get<User>(ann_id, strata::populate_existing), ann);
  EXPECT_EQ(ann->email, "new@x") << "the row's values did not reach the object";
  EXPECT_FALSE(s.is_modified(ann)) << "the snapshot was not taken from the row";
  ASSERT_FALSE(sql().empty());
  EXPECT_EQ(sql().front(), "BEGIN") << "no lock, so no write lock on SQLite: " << dump();
  EXPECT_FALSE(contains(sql().back(), "FOR ")) << dump();
  // A change in memory: autoflush writes it first, and the row brings it back; with autoflush
  // off it is overwritten.
  ann->email = "kept@x";
  EXPECT_EQ(s.get<User>(ann_id, strata::populate_existing)->email, "kept@x");
  {
    auto guard = s.no_autoflush();
    ann->email = "lost@x";
    EXPECT_EQ(s.get<User>(ann_id, strata::populate_existing)->email, "kept@x");
    s.delete_(ann);
    EXPECT_EQ(s.get<User>(ann_id, strata::populate_existing), nullptr)
        << "an object marked for deletion";
  }
  s.rollback();
  EXPECT_EQ(s.get<User>(ann_id + bob_id + 1, strata::populate_existing), nullptr);
  // A mapping that loads a relationship eagerly: the related object is read again too.
  auto shelf = s.add(Shelf{.name = "top"});
  auto book = s.add(Book{.title = "b", .shelf = shelf});
  s.commit();
  s.execute("UPDATE " + q("shelf") + " SET name = 'bottom' WHERE id = " + ph(1), {shelf->id});
  s.commit();
  EXPECT_EQ(s.get<Book>(book->id, strata::populate_existing), book);
  EXPECT_EQ(shelf->name, "bottom");
}

TEST_P(LockingTest, get_with_a_lock_reads_the_row_even_when_the_session_holds_it) {
  auto& s = session();
  auto ann = ann_changed_behind_the_session();
  EXPECT_EQ(s.get<User>(ann_id, ForUpdate{}), ann);
  EXPECT_EQ(ann->email, "new@x") << "the locked row's values did not reach the object";
  ASSERT_FALSE(sql().empty());
  EXPECT_EQ(sql().front(), row_write_locks() ? "BEGIN" : "BEGIN IMMEDIATE") << dump();
  if (row_write_locks()) {
    EXPECT_TRUE(contains(sql().back(), " FOR UPDATE")) << dump();
  }
  EXPECT_EQ(s.get<User>(ann_id + bob_id + 1, {.nowait = true}), nullptr);
  EXPECT_EQ(s.get<User>(ann_id, {}), ann);  // {} is ForUpdate{}
  {
    auto guard = s.no_autoflush();
    s.delete_(ann);
    EXPECT_EQ(s.get<User>(ann_id, ForUpdate{}), nullptr) << "an object marked for deletion";
  }
  s.rollback();
  if (shared_database()) {
    ASSERT_NE(s.get<User>(bob_id, {.read = true}), nullptr);
    auto other_db = impatient_other();
    auto other = other_db->new_session();
    const std::string message =
        operational_error([&] { other.get<User>(bob_id, {.nowait = true}); });
    EXPECT_TRUE(contains(message, "database is locked")) << message;
    other.rollback();
    s.commit();
    EXPECT_EQ(other.get<User>(bob_id, {.nowait = true})->username, "bob");
    other.commit();
  }
  try {
    s.get<User>(ann_id, {.nowait = true, .skip_locked = true});
    FAIL() << "nowait with skip_locked was taken";
  } catch (const strata::ArgumentError& e) {
    EXPECT_TRUE(contains(e.what(), "get()")) << e.what();
  }
  // A mapping that loads a relationship eagerly: the joined related row is not locked
  // (PostgreSQL refuses a lock on the nullable side of the outer join).
  auto shelf = s.add(Shelf{.name = "top"});
  auto book = s.add(Book{.title = "b", .shelf = shelf});
  s.commit();
  clear_sql();
  EXPECT_EQ(s.get<Book>(book->id, ForUpdate{}), book);
  EXPECT_EQ(book->shelf.get(), shelf);
  if (row_write_locks()) {
    EXPECT_TRUE(contains(sql().back(), "FOR UPDATE OF book")) << dump();
  }
  s.commit();
}

TEST_P(LockingTest, a_row_lock_holds_off_other_transactions_until_commit) {
  BACKEND_REQUIRE(shared_database());
  auto& s = session();
  auto ann = s.query<User>().filter_by(&User::id, ann_id).with_for_update().one();

  auto other_db = impatient_other();
  auto other = other_db->new_session();
  const auto lock_ann = [&](ForUpdate how) {
    return other.query<User>().filter_by(&User::id, ann_id).with_for_update(how).one();
  };
  std::string message = operational_error([&] { lock_ann({.nowait = true}); });
  EXPECT_TRUE(contains(message, "database is locked")) << message;
  if (whole_database_write_lock()) {
    EXPECT_TRUE(contains(message, "nowait")) << message;
  }
  other.rollback();

  // Without nowait the other waits up to its busy timeout, then gives up.
  const auto started = std::chrono::steady_clock::now();
  message = operational_error([&] { lock_ann({}); });
  EXPECT_TRUE(contains(message, "database is locked")) << message;
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(90));
  other.rollback();

  // Reading without a lock does not wait.
  EXPECT_EQ(other.query<User>().count(), 2);
  other.rollback();

  if (row_write_locks()) {
    // Rows locked one by one: the others' can be locked, and skip_locked leaves ann's out.
    auto bob = other.query<User>().filter_by(&User::id, bob_id).with_for_update({.nowait = true}).one();
    EXPECT_EQ(bob->username, "bob");
    auto free = other.query<User>().with_for_update({.skip_locked = true}).all();
    ASSERT_EQ(free.size(), 1u);
    EXPECT_EQ(free[0]->username, "bob");
    other.rollback();
  }

  ann->bio = "mine";
  s.commit();  // the lock goes with the transaction
  auto again = lock_ann({.nowait = true});
  EXPECT_EQ(again->bio, "mine");
  other.commit();
}

TEST_P(LockingTest, a_share_lock_lets_others_share_it_and_not_write) {
  BACKEND_REQUIRE(row_write_locks());
  auto& s = session();
  s.query<User>().filter_by(&User::id, ann_id).with_for_update({.read = true}).one();
  auto other_db = impatient_other();
  auto other = other_db->new_session();
  auto shared = other.query<User>().filter_by(&User::id, ann_id)
                    .with_for_update({.read = true, .nowait = true})
                    .one();
  EXPECT_EQ(shared->username, "ann");
  other.rollback();
  const std::string message = operational_error([&] {
    other.query<User>().filter_by(&User::id, ann_id).with_for_update({.nowait = true}).one();
  });
  EXPECT_TRUE(contains(message, "database is locked")) << message;
  other.rollback();
  // FOR SHARE stops a FOR NO KEY UPDATE too (FOR KEY SHARE would not: below).
  const std::string weaker = operational_error([&] {
    other.query<User>().filter_by(&User::id, ann_id).with_for_update({.key_share = true, .nowait = true}).one();
  });
  EXPECT_TRUE(contains(weaker, "database is locked")) << weaker;
  other.rollback();
  // FOR KEY SHARE does not stop a FOR NO KEY UPDATE, which leaves the key alone.
  s.rollback();
  s.query<User>().filter_by(&User::id, ann_id).with_for_update({.read = true, .key_share = true}).one();
  auto weak = other.query<User>().filter_by(&User::id, ann_id)
                  .with_for_update({.key_share = true, .nowait = true})
                  .one();
  EXPECT_EQ(weak->username, "ann");
  other.rollback();
  s.rollback();
}

TEST_P(LockingTest, with_for_update_of_a_model_and_with_eager_loads_locks_the_querys_own_rows) {
  auto& s = session();
  // joinedload's LEFT OUTER JOIN: PostgreSQL refuses to lock its nullable side, so only the
  // query's own rows are locked (FOR UPDATE OF user).
  auto users = s.query<User>()
                   .options(joinedload(&User::posts))
                   .order_by(&User::id)
                   .with_for_update()
                   .all();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0]->posts.size(), 2u);
  if (row_write_locks()) {
    EXPECT_TRUE(contains(sql().back(), "FOR UPDATE OF " + q("user"))) << dump();
  }
  s.rollback();
  // With a limit the parents are a subquery, which holds the lock.
  users = s.query<User>()
              .options(joinedload(&User::posts))
              .order_by(&User::id)
              .limit(1)
              .with_for_update({.nowait = true})
              .all();
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0]->posts.size(), 2u);
  if (row_write_locks()) {
    EXPECT_TRUE(contains(sql().back(), "FOR UPDATE OF " + q("user") + " NOWAIT) AS anon_1"))
        << dump();
  }
  s.rollback();
  // A join: with_for_update<Post>() locks the posts only.
  auto posts = s.query<Post>()
                   .join(&Post::author)
                   .filter(col(&User::username) == "ann")
                   .with_for_update<Post>()
                   .all();
  EXPECT_EQ(posts.size(), 2u);
  if (row_write_locks()) {
    EXPECT_TRUE(contains(sql().back(), "FOR UPDATE OF post")) << dump();
    if (shared_database()) {
      auto other_db = impatient_other();
      auto other = other_db->new_session();
      EXPECT_EQ(other.query<User>().filter_by(&User::id, ann_id)
                    .with_for_update({.nowait = true}).one()->username, "ann")
          << "the joined user's row was locked too";
      other.rollback();
      const std::string message = operational_error([&] {
        other.query<Post>().filter_by(&Post::id, one_id).with_for_update({.nowait = true}).one();
      });
      EXPECT_TRUE(contains(message, "database is locked")) << message;
      other.rollback();
    }
  }
  s.rollback();
}

TEST_P(LockingTest, values_and_streams_lock_too_and_counting_locks_nothing) {
  auto& s = session();
  auto names = s.query<User>().with_for_update().order_by(&User::username).select(&User::username).all();
  EXPECT_EQ(names, (std::vector<std::string>{"ann", "bob"}));
  if (row_write_locks()) {
    EXPECT_TRUE(contains(sql().back(), "FOR UPDATE")) << dump();
  }
  s.rollback();
  clear_sql();
  int streamed = 0;
  for (const auto& u : s.query<User>().with_for_update().stream()) streamed += !u.username.empty();
  EXPECT_EQ(streamed, 2);
  ASSERT_FALSE(sql().empty());
  if (row_write_locks()) {
    EXPECT_TRUE(contains(sql().back(), "FOR UPDATE")) << dump();
  } else {
    EXPECT_EQ(sql().front(), "BEGIN IMMEDIATE") << dump();
  }
  s.rollback();
  // Bulk statements lock what they write: a lock is refused.
  EXPECT_THROW(s.query<User>().with_for_update().update(strata::set(&User::bio, "x")),
               strata::ArgumentError);
  EXPECT_THROW(s.query<User>().with_for_update().delete_(), strata::ArgumentError);
  clear_sql();
  EXPECT_EQ(s.query<User>().with_for_update().count(), 2);
  EXPECT_FALSE(contains(sql().back(), "FOR UPDATE")) << dump();
  auto page = s.query<User>().order_by(&User::id).with_for_update().paginate(1, 1);
  EXPECT_EQ(page.total, 2);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0]->username, "ann");
  s.rollback();
}

// On SQLite the lock is the transaction's BEGIN IMMEDIATE; on PostgreSQL, where the BEGIN is
// plain either way, this checks only that the page and exists() still work with a lock.
TEST_P(LockingTest, counting_first_begins_the_transaction_as_the_locking_query_would) {
  auto& s = session();
  const std::string begin = row_write_locks() ? "BEGIN" : "BEGIN IMMEDIATE";
  auto page = s.query<User>().order_by(&User::id).with_for_update().paginate(2, 1);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0]->username, "bob");
  ASSERT_FALSE(sql().empty());
  EXPECT_EQ(sql().front(), begin) << dump();
  s.rollback();
  clear_sql();
  EXPECT_TRUE(s.query<User>().filter_by(&User::id, ann_id).with_for_update().exists());
  ASSERT_FALSE(sql().empty());
  EXPECT_EQ(sql().front(), begin) << dump();
  s.rollback();
}

// A lock inside a subquery locks the rows the subquery reads (PostgreSQL); on SQLite it begins
// the session's transaction with the write lock, as the query's own lock would.
TEST_P(LockingTest, a_lock_in_a_subquery_begins_the_transaction_as_the_querys_own_would) {
  auto& s = session();
  const std::string begin = row_write_locks() ? "BEGIN" : "BEGIN IMMEDIATE";
  auto ann_locked =
      s.query<User>().filter_by(&User::username, "ann").with_for_update().select(&User::id);
  auto check = [&](const char* what) {
    ASSERT_FALSE(sql().empty()) << what;
    EXPECT_EQ(sql().front(), begin) << what << ": " << dump();
    if (row_write_locks()) {
      EXPECT_TRUE(contains(sql().back(), "FOR UPDATE")) << what << ": " << dump();
    }
    s.rollback();
    clear_sql();
  };
  auto users = s.query<User>().filter(col(&User::id).in_(ann_locked)).all();
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0]->username, "ann");
  check("all()");
  EXPECT_EQ(s.query<User>().filter(col(&User::id).in_(ann_locked)).count(), 1);
  check("count()");
  EXPECT_TRUE(s.query<User>().filter(col(&User::id).in_(ann_locked)).exists());
  check("exists()");
  EXPECT_EQ(s.query<User>().filter(col(&User::id).in_(ann_locked)).select(&User::email).all(),
            std::vector<std::string>{"ann@x"});
  check("a select of values");
  int streamed = 0;
  for (const auto& u : s.query<User>().filter(col(&User::id).in_(ann_locked)).stream())
    streamed += u.username == "ann";
  EXPECT_EQ(streamed, 1);
  check("stream()");
  // A bulk update that takes its rows through a locking subquery (a queue's claim).
  EXPECT_EQ(
      s.query<User>().filter(col(&User::id).in_(ann_locked)).update(strata::set(&User::bio, "x")),
      1);
  check("a bulk update");
}

TEST_P(LockingTest, nowait_and_skip_locked_together_are_refused) {
  auto& s = session();
  try {
    s.query<User>().with_for_update({.nowait = true, .skip_locked = true});
    FAIL() << "nowait with skip_locked was taken";
  } catch (const strata::ArgumentError& e) {
    EXPECT_TRUE(contains(e.what(), "nowait")) << e.what();
  }
  EXPECT_TRUE(sql().empty()) << dump();
}

}  // namespace
