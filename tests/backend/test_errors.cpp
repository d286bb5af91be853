// Failures and how the session comes back from them: a failed flush rolls back and names the
// constraint, the session refuses work until rollback(), stale rows, and engine errors seen
// through the ORM (bad URL, missing folder, a locked database).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "backend.hpp"

namespace {

using strata::col;

BACKEND_SUITE(ErrorsTest);

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Commits a user "ann" and returns it.
std::shared_ptr<User> commit_ann(strata::Session& s) {
  auto u = s.add(User{.username = "ann", .email = "ann@x"});
  s.commit();
  return u;
}

// ---- a failed flush ------------------------------------------------------------------------

TEST_P(ErrorsTest, a_scalar_subquery_of_several_rows_is_a_programming_error_on_postgresql) {
  // SQLite takes the first row; PostgreSQL refuses it (class 21, cardinality violation), which
  // read as an OperationalError, the class of an unreachable or locked database.
  BACKEND_REQUIRE(failed_statement_aborts_transaction());
  EXPECT_THROW(session().execute("SELECT (SELECT 1 UNION ALL SELECT 2)"), strata::ProgrammingError);
  session().rollback();
}

TEST_P(ErrorsTest, a_refused_statement_of_many_parameters_has_a_message_of_a_few_lines) {
  // 300,000 values: beyond SQLite's limit as Debian builds it (250,000), which SQLite refuses
  // with its SQL and parameters in the message (a megabyte of them before), and beyond
  // PostgreSQL's protocol (65,535), which strata refuses before sending.
  std::vector<std::int64_t> ids(300000);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int64_t>(i);
  try {
    session().query<User>().filter(col(&User::id).in_(ids)).count();
    ADD_FAILURE() << "300,000 parameters were taken";
  } catch (const strata::Error& e) {
    const std::string what = e.what();
    EXPECT_LT(what.size(), 5000u) << what.substr(0, 5000);
    if (contains(what, "[SQL: ")) {
      EXPECT_TRUE(contains(what, " characters)]")) << what;
    }
    if (contains(what, "[parameters: ")) {  // (none when the statement could not be prepared)
      EXPECT_TRUE(contains(what, ", ... (300000 parameters)]")) << what;
    }
  }
  session().rollback();
}

TEST_P(ErrorsTest, unique_violation_names_the_unique_index_and_its_table) {
  auto& s = session();
  commit_ann(s);
  s.add(User{.username = "ann", .email = "other@x"});
  try {
    s.commit();
    FAIL() << "a duplicate username was committed";
  } catch (const strata::IntegrityError& e) {
    EXPECT_EQ(e.constraint(), "ix_user_username") << e.what();
    EXPECT_EQ(e.table(), "user") << e.what();
    EXPECT_EQ(e.kind(), strata::ConstraintKind::unique) << e.what();
    EXPECT_TRUE(contains(e.what(), "ix_user_username")) << "message lacks the index: " << e.what();
    EXPECT_FALSE(e.sql().empty()) << "the failing statement is not attached";
  }
  s.rollback();
}

TEST_P(ErrorsTest, the_statement_the_database_refuses_is_echoed_and_so_marked_before_the_rollback) {
  // As SQLAlchemy's echo shows the INSERT that failed, not only the ROLLBACK after it.
  auto& s = session();
  commit_ann(s);
  clear_sql();
  s.add(User{.username = "ann", .email = "other@x"});
  EXPECT_THROW(s.commit(), strata::IntegrityError);
  const auto& run = statements();
  const auto failed = std::find_if(run.begin(), run.end(), [](const auto& st) { return st.failed; });
  ASSERT_NE(failed, run.end()) << "no echoed statement is marked as failed:\n" << dump();
  EXPECT_TRUE(failed->sql.starts_with(spelled("INSERT INTO {user}"))) << dump();
  EXPECT_NE(failed->params.find("'other@x'"), std::string::npos) << failed->params;
  EXPECT_EQ(std::count_if(run.begin(), run.end(), [](const auto& st) { return st.failed; }), 1)
      << dump();
  EXPECT_TRUE(std::any_of(failed, run.end(), [](const auto& st) { return st.sql == "ROLLBACK"; }))
      << "no ROLLBACK echoed after the failed statement:\n" << dump();
  s.rollback();
  // Text the database cannot parse is echoed too: it fails before it runs.
  clear_sql();
  EXPECT_THROW(s.execute("SELEC 1"), strata::DatabaseError);
  ASSERT_FALSE(statements().empty()) << "the refused text was not echoed";
  EXPECT_EQ(statements().back().sql, "SELEC 1");
  EXPECT_TRUE(statements().back().failed);
  s.rollback();
}

TEST_P(ErrorsTest, unique_violation_names_the_unique_constraint) {
  auto& s = session();
  commit_ann(s);
  s.add(User{.username = "bob", .email = "ann@x"});
  try {
    s.commit();
    FAIL() << "a duplicate email was committed";
  } catch (const strata::IntegrityError& e) {
    EXPECT_EQ(e.constraint(), "uq_user_email") << e.what();
    EXPECT_EQ(e.table(), "user") << e.what();
    EXPECT_TRUE(contains(e.what(), "uq_user_email")) << e.what();
  }
  s.rollback();
}

TEST_P(ErrorsTest, check_violation_names_the_check_constraint) {
  auto& s = session();
  auto u = commit_ann(s);
  s.add(Post{.title = "t", .votes = -1, .author = u});
  try {
    s.commit();
    FAIL() << "a row breaking a CHECK constraint was committed";
  } catch (const strata::IntegrityError& e) {
    EXPECT_EQ(e.constraint(), "ck_post_votes_not_negative") << e.what();
    EXPECT_EQ(e.kind(), strata::ConstraintKind::check) << e.what();
  }
  s.rollback();
}

TEST_P(ErrorsTest, failed_flush_leaves_the_database_unchanged) {
  auto& s = session();
  auto ann = commit_ann(s);
  ann->email = "changed@x";
  s.add(User{.username = "bob", .email = "bob@x"});  // inserted before the failure
  s.add(User{.username = "ann", .email = "dup@x"});
  EXPECT_THROW(s.commit(), strata::IntegrityError);

  auto other = db().new_session();
  EXPECT_EQ(other.query<User>().count(), 1)
      << "rows inserted by the failed flush are in the database";
  EXPECT_EQ(other.get<User>(ann->id)->email, "ann@x")
      << "the UPDATE of the failed flush is in the database";
  other.close();
  s.rollback();
}

TEST_P(ErrorsTest, session_refuses_work_after_a_failed_flush_until_rollback) {
  auto& s = session();
  auto ann = commit_ann(s);
  s.add(User{.username = "ann", .email = "dup@x"});
  EXPECT_THROW(s.flush(), strata::IntegrityError);

  EXPECT_THROW(s.flush(), strata::InvalidRequestError) << "flush() after a failed flush";
  EXPECT_THROW(s.commit(), strata::InvalidRequestError) << "commit() after a failed flush";
  EXPECT_THROW(s.query<User>().count(), strata::InvalidRequestError) << "query after it";
  EXPECT_THROW(s.get<User>(ann->id + 1), strata::InvalidRequestError) << "get() after it";
  EXPECT_THROW(s.execute("SELECT 1"), strata::InvalidRequestError) << "execute() after it";
  try {
    s.commit();
  } catch (const strata::InvalidRequestError& e) {
    EXPECT_TRUE(contains(e.what(), "rollback()")) << "the remedy is not named: " << e.what();
  }
}

TEST_P(ErrorsTest, session_works_again_after_rollback_of_a_failed_flush) {
  auto& s = session();
  auto ann = commit_ann(s);
  auto bob = s.add(User{.username = "bob", .email = "bob@x"});
  auto dup = s.add(User{.username = "ann", .email = "dup@x"});
  EXPECT_THROW(s.commit(), strata::IntegrityError);
  s.rollback();

  EXPECT_FALSE(s.contains(dup)) << "the object that failed is still pending after rollback()";
  EXPECT_FALSE(s.contains(bob));
  EXPECT_EQ(bob->id, 0) << "the key of a rolled-back INSERT was kept";
  EXPECT_TRUE(s.contains(ann));
  s.add(User{.username = "carl", .email = "carl@x"});
  s.commit();
  EXPECT_EQ(s.query<User>().count(), 2) << "the session does not work after rollback()";
}

TEST_P(ErrorsTest, deleting_a_user_who_has_posts_names_the_foreign_key_and_recovers) {
  auto& s = session();
  auto ann = commit_ann(s);
  s.add(Post{.title = "hello", .author = ann});
  s.commit();

  s.delete_(ann);
  try {
    s.commit();
    FAIL() << "a user referenced by a post was deleted";
  } catch (const strata::IntegrityError& e) {
    EXPECT_EQ(e.constraint(), "fk_post_user_id_user") << e.what();
    EXPECT_EQ(e.kind(), strata::ConstraintKind::foreign_key) << e.what();
    EXPECT_TRUE(contains(e.what(), "fk_post_user_id_user")) << e.what();
    EXPECT_TRUE(contains(e.what(), "post")) << "the referring table is not named: " << e.what();
  }
  s.rollback();
  EXPECT_TRUE(s.contains(ann)) << "rollback() did not bring back the user";
  EXPECT_EQ(s.get<User>(ann->id), ann);
  ann->bio = "still here";
  s.commit();
  EXPECT_EQ(s.query<User>().filter(col(&User::bio).is_not_null()).count(), 1);
}

TEST_P(ErrorsTest, a_bulk_delete_of_referred_rows_names_the_foreign_key) {
  auto& s = session();
  auto ann = commit_ann(s);
  s.add(Post{.title = "hello", .author = ann});
  s.commit();
  try {
    s.query<User>().delete_();
    FAIL() << "users referred to by a post were deleted";
  } catch (const strata::IntegrityError& e) {
    EXPECT_EQ(e.kind(), strata::ConstraintKind::foreign_key) << e.what();
    EXPECT_TRUE(contains(e.what(), "fk_post_user_id_user")) << e.what();
  }
  s.rollback();
  EXPECT_EQ(s.query<User>().count(), 1);
}

TEST_P(ErrorsTest, inserting_a_post_for_a_missing_user_names_the_foreign_key) {
  auto& s = session();
  s.add(Post{.title = "orphan", .user_id = 999});
  try {
    s.commit();
    FAIL() << "a post referring to a missing user was committed";
  } catch (const strata::IntegrityError& e) {
    EXPECT_EQ(e.constraint(), "fk_post_user_id_user") << e.what();
  }
  s.rollback();
}

TEST_P(ErrorsTest, clearing_a_required_author_is_a_flush_error_naming_the_foreign_key) {
  auto& s = session();
  auto ann = commit_ann(s);
  auto post = s.add(Post{.title = "t", .author = ann});
  s.commit();
  post->author = nullptr;
  try {
    s.commit();
    FAIL() << "a post without its required author was flushed";
  } catch (const strata::FlushError& e) {
    EXPECT_TRUE(contains(e.what(), "post.user_id")) << e.what();
  }
  s.rollback();
  EXPECT_EQ(post->user_id, ann->id);
  EXPECT_EQ(post->author->id, ann->id) << "rollback() did not restore the author";
}

TEST_P(ErrorsTest, update_of_a_row_deleted_by_another_session_is_stale_data) {
  auto& s = session();
  auto ann = commit_ann(s);

  auto other = db().new_session();
  other.delete_(other.get<User>(ann->id));
  other.commit();

  ann->email = "new@x";
  try {
    s.commit();
    FAIL() << "an UPDATE that matched no row went unnoticed";
  } catch (const strata::StaleDataError& e) {
    EXPECT_TRUE(contains(e.what(), "User")) << e.what();
  }
  s.rollback();
}

TEST_P(ErrorsTest, delete_of_a_row_deleted_by_another_session_is_stale_data) {
  auto& s = session();
  auto ann = commit_ann(s);
  auto other = db().new_session();
  other.delete_(other.get<User>(ann->id));
  other.commit();

  s.delete_(ann);
  EXPECT_THROW(s.commit(), strata::StaleDataError);
  s.rollback();
}

// PostgreSQL answers the COMMIT of a transaction a failed statement aborted with a ROLLBACK
// and no error: commit() returned as if the user had been written.
TEST_P(ErrorsTest, a_commit_after_a_failed_statement_commits_or_says_it_rolled_back) {
  auto& s = session();
  s.add(User{.username = "ann", .email = "ann@x"});
  s.flush();
  EXPECT_THROW(s.execute("SELECT * FROM no_such_table"), strata::ProgrammingError);
  auto users = [&] { return open_another()->session().query<User>().count(); };
  if (failed_statement_aborts_transaction()) {
    try {
      s.commit();
      FAIL() << "the COMMIT that rolled back passed for a commit";
    } catch (const strata::ProgrammingError& e) {
      EXPECT_TRUE(contains(e.what(), "COMMIT rolled back instead")) << e.what();
    }
    // the session knows its transaction is over: neither a second commit() nor more work
    // passes for one that writes
    EXPECT_THROW(s.commit(), strata::InvalidRequestError);
    EXPECT_THROW(s.query<User>().count(), strata::InvalidRequestError);
    s.rollback();
    EXPECT_EQ(users(), 0);
    EXPECT_EQ(s.query<User>().count(), 0);
    commit_ann(s);  // the session works again
    EXPECT_EQ(users(), 1);
  } else {
    s.commit();  // SQLite undid the failed statement alone
    if (shared_database()) {
      EXPECT_EQ(users(), 1);
    }
    EXPECT_EQ(s.query<User>().count(), 1);
  }
}

TEST_P(ErrorsTest, one_and_get_errors_do_not_break_the_session) {
  auto& s = session();
  commit_ann(s);
  s.add(User{.username = "bob", .email = "bob@x"});
  s.commit();
  EXPECT_THROW(s.query<User>().filter_by(&User::username, "zed").one(), strata::NoResultFound);
  EXPECT_THROW(s.query<User>().one(), strata::MultipleResultsFound);
  EXPECT_THROW(s.query<User>().one_or_none(), strata::MultipleResultsFound);
  EXPECT_EQ(s.query<User>().count(), 2) << "a query error left the session unusable";
}

// ---- engine errors through the ORM -----------------------------------------------------------

TEST(EngineErrors, bad_url_is_an_argument_error) {
  EXPECT_THROW(strata::Database("sqlite:/one-slash.db"), strata::ArgumentError);
  EXPECT_THROW(strata::Database("no-scheme"), strata::ArgumentError);
  try {
    strata::Database db("oracle://scott:tiger@host/db");
    FAIL() << "an unsupported backend was accepted";
  } catch (const strata::ArgumentError& e) {
    EXPECT_TRUE(contains(e.what(), "oracle")) << e.what();
    EXPECT_FALSE(contains(e.what(), "tiger")) << "the password leaked into: " << e.what();
  }
}

TEST(EngineErrors, database_in_a_missing_folder_fails_on_first_use_naming_the_folder) {
  auto dir = std::filesystem::temp_directory_path() / "strata-no-such-folder-4ee3c9e7";
  std::filesystem::remove_all(dir);
  strata::Database db("sqlite:///" + (dir / "app.db").string());  // connects lazily
  db.register_models<User>();
  try {
    db.create_all();
    FAIL() << "a database in a missing folder was opened";
  } catch (const strata::OperationalError& e) {
    EXPECT_TRUE(contains(e.what(), dir.string())) << "the folder is not named: " << e.what();
  }
  EXPECT_THROW(db.session().query<User>().count(), strata::OperationalError);
  EXPECT_FALSE(std::filesystem::exists(dir)) << "the folder was created";
}

TEST_P(ErrorsTest, locked_database_is_an_operational_error_and_nothing_is_lost) {
  BACKEND_REQUIRE(whole_database_write_lock());
  auto& first = session();
  first.execute("INSERT INTO task (title) VALUES ('held')");  // holds the write lock

  strata::DatabaseOptions options;
  options.engine.connect.busy_timeout = std::chrono::milliseconds(100);
  auto second_db = open_another(options);
  auto& second = second_db->session();
  second.add(Task{.title = "waiting"});
  auto started = std::chrono::steady_clock::now();
  try {
    second.commit();
    FAIL() << "a second writer committed while the first held the lock";
  } catch (const strata::OperationalError& e) {
    EXPECT_TRUE(contains(e.what(), "locked")) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3))
      << "the busy timeout of 100 ms was not used";
  second.rollback();

  first.commit();
  second.add(Task{.title = "waiting"});
  second.commit();
  auto titles = second.query<Task>().order_by(&Task::id).all();
  ASSERT_EQ(titles.size(), 2u) << "a write was lost";
  EXPECT_EQ(titles[0]->title, "held");
  EXPECT_EQ(titles[1]->title, "waiting");
}

TEST_P(ErrorsTest, drop_all_that_cannot_read_a_locked_table_fails_and_drops_nothing) {
  // Before, a table that could not be read counted as missing: drop_all() skipped it, went on
  // and returned as if done.
  BACKEND_REQUIRE(shared_database());
  auto holder = db().engine().connect();
  if (db().dialect().name() == "sqlite") {
    holder->execute("BEGIN EXCLUSIVE");  // readers wait too
  } else {
    holder->execute("BEGIN");
    holder->execute("LOCK TABLE " + q("user") + " IN ACCESS EXCLUSIVE MODE");
  }
  strata::DatabaseOptions options;
  options.engine.connect.busy_timeout = std::chrono::milliseconds(100);
  auto other = open_another(options);
  EXPECT_THROW(other->drop_all(), strata::OperationalError);
  holder->execute("ROLLBACK");
  holder.release();
  commit_ann(session());
  EXPECT_EQ(session().query<User>().count(), 1) << "a table was dropped";
}

// A session's transaction that read before writing is refused the write lock at once while
// another session writes (SQLite does not wait then); with begin_immediate it waits instead.
TEST_P(ErrorsTest, a_session_that_read_first_is_refused_at_once_or_waits_with_begin_immediate) {
  BACKEND_REQUIRE(whole_database_write_lock());
  auto& first = session();
  first.add(Task{.title = "first"});
  first.flush();  // holds the write lock

  strata::DatabaseOptions options;
  options.engine.connect.busy_timeout = std::chrono::milliseconds(60000);
  auto second_db = open_another(options);
  auto& second = second_db->session();
  EXPECT_EQ(second.query<Task>().count(), 0);
  second.add(Task{.title = "second"});
  try {
    second.commit();
    FAIL() << "a second writer committed while the first held the lock";
  } catch (const strata::OperationalError& e) {
    EXPECT_TRUE(contains(e.what(), "this transaction read before its first write")) << e.what();
    EXPECT_TRUE(contains(e.what(), "ConnectOptions::begin_immediate")) << e.what();
  }
  second.rollback();

  options.engine.connect.begin_immediate = true;
  auto third_db = open_another(options);
  auto& third = third_db->session();
  std::thread committer([&first] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    first.commit();
  });
  std::int64_t seen = -1;
  try {
    seen = third.query<Task>().count();  // BEGIN IMMEDIATE: waits for the first to commit
    third.add(Task{.title = "third"});
    third.commit();
  } catch (...) {
    committer.join();
    throw;
  }
  committer.join();
  EXPECT_EQ(seen, 1);
  auto titles = third.query<Task>().order_by(&Task::id).all();
  ASSERT_EQ(titles.size(), 2u) << "a write was lost";
  EXPECT_EQ(titles[0]->title, "first");
  EXPECT_EQ(titles[1]->title, "third");
}

}  // namespace
