// Query<T> on a real database: every filter operator and their combinations, ordering,
// limit/offset, first/one/one_or_none, count, exists, paginate, streaming, bulk update and
// delete (one statement each, kept in step with the session), and raw SQL with parameters.
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "backend.hpp"

namespace {

using strata::and_;
using strata::asc;
using strata::col;
using strata::desc;
using strata::not_;
using strata::or_;
using strata::set;
using Names = std::vector<std::string>;

BACKEND_SUITE(QueryTest);

// Five users, committed, then forgotten by the session:
//   name  role    active  bio
//   ann   admin   yes     "likes cats"
//   bob   writer  no      NULL
//   carl  reader  yes     "Cat person"
//   dora  reader  yes     NULL
//   eve   writer  yes     "dogs"
class Users : public QueryTest {
 protected:
  void SetUp() override {
    QueryTest::SetUp();
    auto& s = session();
    auto add = [&](const char* name, Role role, bool active, std::optional<std::string> bio) {
      s.add(User{.username = name,
                 .email = std::string(name) + "@example.com",
                 .bio = std::move(bio),
                 .role = role,
                 .active = active});
    };
    add("ann", Role::admin, true, "likes cats");
    add("bob", Role::writer, false, std::nullopt);
    add("carl", Role::reader, true, "Cat person");
    add("dora", Role::reader, true, std::nullopt);
    add("eve", Role::writer, true, "dogs");
    s.commit();
    s.expunge_all();
    clear_sql();
  }

  // The usernames a query returns, sorted by username unless the query orders itself.
  Names names(const strata::Query<User>& q, bool sort = true) {
    auto query = sort ? q.order_by(&User::username) : q;
    Names out;
    for (const auto& u : query.all()) out.push_back(u->username);
    return out;
  }
  strata::Query<User> users() { return session().query<User>(); }
};
INSTANTIATE_TEST_SUITE_P(backends, Users, ::testing::ValuesIn(::backend::test_urls()),
                         ::backend::url_label);

// ---- filters -------------------------------------------------------------------------------

TEST_P(Users, comparison_operators_filter_rows) {
  auto name = col(&User::username);
  EXPECT_EQ(names(users().filter(name == "carl")), (Names{"carl"})) << "==";
  EXPECT_EQ(names(users().filter(name != "carl")), (Names{"ann", "bob", "dora", "eve"})) << "!=";
  EXPECT_EQ(names(users().filter(name < "carl")), (Names{"ann", "bob"})) << "<";
  EXPECT_EQ(names(users().filter(name <= "carl")), (Names{"ann", "bob", "carl"})) << "<=";
  EXPECT_EQ(names(users().filter(name > "carl")), (Names{"dora", "eve"})) << ">";
  EXPECT_EQ(names(users().filter(name >= "carl")), (Names{"carl", "dora", "eve"})) << ">=";
  EXPECT_EQ(names(users().filter(col(&User::role) == Role::writer)), (Names{"bob", "eve"}))
      << "enum equality";
  EXPECT_EQ(names(users().filter(col(&User::active) == false)), (Names{"bob"})) << "bool";
}

TEST_P(Users, like_and_ilike_match_patterns) {
  EXPECT_EQ(names(users().filter(col(&User::username).like("%a%"))),
            (Names{"ann", "carl", "dora"}));
  EXPECT_EQ(names(users().filter(col(&User::username).not_like("%a%"))), (Names{"bob", "eve"}));
  EXPECT_EQ(names(users().filter(col(&User::bio).ilike("%CAT%"))), (Names{"ann", "carl"}))
      << "ilike() is not case-insensitive on this backend";
  EXPECT_EQ(names(users().filter(col(&User::bio).ilike("cat%"))), (Names{"carl"}));
}

TEST_P(Users, startswith_contains_endswith_and_an_escape_match_the_same_rows_on_every_backend) {
  // Text a user typed, matched as it is: % and _ and the backslash (an escape on PostgreSQL by
  // default, plain text on SQLite) are no wildcards here.
  auto& s = session();
  for (const char* bio : {"50%_off now", "5000 off", "C:\\dir\\file", "C:dir"})
    s.add(User{.username = std::string("u") + bio, .email = std::string(bio) + "@x", .bio = bio});
  s.commit();
  auto bio = col(&User::bio);
  auto count = [&](const auto& condition) { return users().filter(condition).count(); };
  EXPECT_EQ(count(bio.startswith("50%_")), 1) << "% and _ of the text were taken as wildcards";
  EXPECT_EQ(count(bio.contains("%_o")), 1);
  EXPECT_EQ(count(bio.endswith("_off now")), 1);
  EXPECT_EQ(count(bio.contains("\\dir\\")), 1) << "a backslash of the text was an escape";
  EXPECT_EQ(count(bio.startswith("C:")), 2);
  EXPECT_EQ(count(bio.contains("a/b")), 0);
  EXPECT_EQ(count(bio.like("50!%%", '!')), 1);
  EXPECT_EQ(count(bio.like("50%", '!')), 2);
  EXPECT_EQ(count(bio.not_like("50!%%", '!')), 6) << "NULL bios are neither";
  EXPECT_EQ(count(bio.ilike("c:\\\\DIR%", '\\')), 1);
  EXPECT_EQ(count(bio.like(strata::escape_like("50%_off", '#') + "%", '#')), 1);
  EXPECT_THROW(count(bio.like("a", '%')), strata::Error) << "% cannot be the escape";
}

TEST_P(Users, an_in_list_longer_than_a_statement_takes_says_so_and_the_session_goes_on) {
  std::vector<std::int64_t> ids(70'000);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int64_t>(i) + 1;
  auto q = users().filter(col(&User::id).in_(ids));
  if (!parameters_at_most_65535()) {
    EXPECT_EQ(q.count(), 5);
    return;
  }
  try {
    q.count();
    ADD_FAILURE() << "70,000 parameters in one statement were not refused";
  } catch (const strata::ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("at most 65,535 parameters on PostgreSQL, and this one "
                                         "has 70000"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(users().count(), 5) << "the refusal broke the session's transaction";
}

TEST_P(Users, in_and_not_in_filter_by_lists_including_empty_ones) {
  auto name = col(&User::username);
  EXPECT_EQ(names(users().filter(name.in_({"eve", "ann", "zed"}))), (Names{"ann", "eve"}));
  EXPECT_EQ(names(users().filter(name.not_in({"ann", "bob"}))), (Names{"carl", "dora", "eve"}));
  const std::vector<std::string> none;
  EXPECT_EQ(names(users().filter(name.in_(none))), Names{}) << "IN () must match nothing";
  EXPECT_EQ(users().filter(name.not_in(none)).count(), 5) << "NOT IN () must match everything";
  EXPECT_EQ(names(users().filter(col(&User::role).in_({Role::admin, Role::reader}))),
            (Names{"ann", "carl", "dora"}));
}

TEST_P(Users, is_null_and_is_not_null_test_optional_columns) {
  EXPECT_EQ(names(users().filter(col(&User::bio).is_null())), (Names{"bob", "dora"}));
  EXPECT_EQ(names(users().filter(col(&User::bio).is_not_null())), (Names{"ann", "carl", "eve"}));
}

TEST_P(Users, between_includes_both_bounds) {
  EXPECT_EQ(names(users().filter(col(&User::username).between("bob", "dora"))),
            (Names{"bob", "carl", "dora"}));
}

TEST_P(Users, and_or_not_combine_conditions) {
  auto role = col(&User::role);
  auto active = col(&User::active);
  EXPECT_EQ(names(users().filter((role == Role::writer || role == Role::admin) && active == true)),
            (Names{"ann", "eve"}))
      << "OR inside AND lost its parentheses";
  EXPECT_EQ(
      names(users().filter(or_(role == Role::admin, and_(role == Role::writer, active == false)))),
      (Names{"ann", "bob"}));
  EXPECT_EQ(names(users().filter(not_(role == Role::reader))), (Names{"ann", "bob", "eve"}));
  EXPECT_EQ(names(users().filter(!(role == Role::reader || active == false))),
            (Names{"ann", "eve"}))
      << "NOT of an OR lost its parentheses";
  EXPECT_EQ(names(users().filter(role == Role::reader).filter(col(&User::bio).is_null())),
            (Names{"dora"}))
      << "two filter() calls are not ANDed";
}

TEST_P(Users, filter_by_is_equality_on_one_member) {
  EXPECT_EQ(names(users().filter_by(&User::role, Role::reader)), (Names{"carl", "dora"}));
  EXPECT_EQ(names(users().filter_by(&User::role, Role::reader).filter_by(&User::username, "dora")),
            (Names{"dora"}));
}

// ---- order, limit, offset --------------------------------------------------------------------

TEST_P(Users, order_by_several_columns_ascending_and_descending) {
  EXPECT_EQ(names(users().order_by(asc(&User::role), desc(&User::username)), false),
            (Names{"dora", "carl", "eve", "bob", "ann"}));
  EXPECT_EQ(names(users().order_by(desc(col(&User::active)), &User::username), false),
            (Names{"ann", "carl", "dora", "eve", "bob"}));
}

TEST_P(Users, limit_and_offset_select_a_window) {
  auto ordered = users().order_by(&User::username);
  EXPECT_EQ(names(ordered.limit(2).offset(1), false), (Names{"bob", "carl"}));
  EXPECT_EQ(names(ordered.offset(3), false), (Names{"dora", "eve"})) << "offset without limit";
  EXPECT_EQ(names(ordered.limit(0), false), Names{});
  EXPECT_EQ(names(ordered.limit(2), false), (Names{"ann", "bob"}))
      << "queries are not generative: limit() changed the original";
}

TEST_P(Users, limit_and_offset_are_bound_parameters_an_offset_alone_and_limit_zero_included) {
  // The SELECTs run since the last clear_sql(), with their parameters.
  auto run = [&] {
    std::vector<backend::Statement> out;
    for (const auto& st : statements())
      if (st.sql.starts_with("SELECT")) out.push_back(st);
    return out;
  };
  auto ordered = users().order_by(&User::username);
  EXPECT_EQ(names(ordered.offset(3), false), (Names{"dora", "eve"}));
  auto selects = run();
  ASSERT_EQ(selects.size(), 1u) << dump();
  EXPECT_EQ(selects[0].params, "3") << "OFFSET alone is not one bound parameter\n" << dump();
  EXPECT_TRUE(selects[0].sql.ends_with(" OFFSET ?")) << dump();
  clear_sql();
  EXPECT_EQ(names(ordered.limit(0), false), Names{}) << "limit(0) must return no rows";
  EXPECT_EQ(names(ordered.limit(0).offset(1), false), Names{});
  selects = run();
  ASSERT_EQ(selects.size(), 2u) << dump();
  EXPECT_EQ(selects[0].params, "0") << dump();
  EXPECT_TRUE(selects[0].sql.ends_with(" LIMIT ?")) << dump();
  EXPECT_EQ(selects[1].params, "0, 1") << dump();
  clear_sql();
  EXPECT_EQ(users().filter_by(&User::username, "eve").first()->username, "eve");
  EXPECT_EQ(users().filter_by(&User::username, "eve").one()->username, "eve");
  selects = run();
  ASSERT_EQ(selects.size(), 2u) << dump();
  EXPECT_EQ(selects[0].params, "'eve', 1") << "first(): the filter's value, then LIMIT 1\n"
                                           << dump();
  EXPECT_EQ(selects[1].params, "'eve', 2") << "one(): the filter's value, then LIMIT 2\n"
                                           << dump();
  EXPECT_EQ(selects[0].sql, selects[1].sql)
      << "first() and one() differ only in their limit, yet run two statement texts";
}

// ---- first, one, one_or_none, count, exists ------------------------------------------------

TEST_P(Users, a_negative_limit_or_offset_is_an_argument_error_when_the_query_is_built) {
  EXPECT_THROW((void)users().limit(-1), strata::ArgumentError);
  EXPECT_THROW((void)users().offset(-2), strata::ArgumentError);
  EXPECT_THROW((void)session().select(&User::username).limit(-1), strata::ArgumentError);
  try {
    (void)users().limit(-1).first();  // first() used to drop the negative limit silently
    FAIL() << "limit(-1) was taken";
  } catch (const strata::ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("limit(-1)"), std::string::npos) << e.what();
  }
}

TEST_P(Users, first_returns_the_first_row_or_null) {
  EXPECT_EQ(users().order_by(desc(&User::username)).first()->username, "eve");
  EXPECT_EQ(users().filter_by(&User::username, "zed").first(), nullptr);
}

TEST_P(Users, one_and_one_or_none_insist_on_a_single_row) {
  EXPECT_EQ(users().filter_by(&User::username, "bob").one()->username, "bob");
  EXPECT_THROW(users().filter_by(&User::username, "zed").one(), strata::NoResultFound);
  EXPECT_THROW(users().filter_by(&User::role, Role::reader).one(), strata::MultipleResultsFound);
  EXPECT_EQ(users().filter_by(&User::username, "zed").one_or_none(), nullptr);
  EXPECT_EQ(users().filter_by(&User::username, "eve").one_or_none()->username, "eve");
  EXPECT_THROW(users().filter_by(&User::role, Role::writer).one_or_none(),
               strata::MultipleResultsFound);
}

TEST_P(Users, first_and_one_keep_a_smaller_limit_of_the_query) {
  // one() asks for two rows to tell one from many; a query limited to one row is one row.
  EXPECT_EQ(users().order_by(&User::username).limit(1).one()->username, "ann");
  EXPECT_EQ(users().order_by(&User::username).offset(4).limit(1).one_or_none()->username, "eve");
  EXPECT_THROW(users().limit(0).one(), strata::NoResultFound);
  EXPECT_EQ(users().limit(0).first(), nullptr);
  EXPECT_EQ(users().limit(0).one_or_none(), nullptr);
  EXPECT_THROW(users().order_by(&User::username).limit(3).one(), strata::MultipleResultsFound);
  // The same for a query of columns.
  EXPECT_EQ(session().select(&User::username).order_by(&User::username).limit(1).one(), "ann");
  EXPECT_FALSE(session().select(&User::username).limit(0).first().has_value());
}

TEST_P(Users, count_counts_filtered_rows_and_respects_limit_and_offset) {
  EXPECT_EQ(users().count(), 5);
  EXPECT_EQ(users().filter(col(&User::active) == true).count(), 4);
  EXPECT_EQ(users().limit(2).count(), 2) << "count() ignored limit()";
  EXPECT_EQ(users().order_by(&User::id).limit(10).offset(4).count(), 1)
      << "count() ignored offset()";
  EXPECT_EQ(users().offset(5).count(), 0);
}

TEST_P(Users, exists_tells_whether_any_row_matches) {
  EXPECT_TRUE(users().filter_by(&User::username, "ann").exists());
  EXPECT_FALSE(users().filter_by(&User::username, "zed").exists());
  EXPECT_TRUE(users().offset(4).exists());
  EXPECT_FALSE(users().offset(5).exists()) << "exists() ignored offset()";
  EXPECT_FALSE(users().limit(0).exists()) << "exists() ignored limit()";
}

// ---- paginate --------------------------------------------------------------------------------

TEST_P(Users, paginate_returns_pages_with_their_numbers) {
  auto q = users().order_by(&User::username);
  auto first = q.paginate(1, 2);
  ASSERT_EQ(first.items.size(), 2u);
  EXPECT_EQ(first.items[0]->username, "ann");
  EXPECT_EQ(first.page, 1);
  EXPECT_EQ(first.per_page, 2);
  EXPECT_EQ(first.total, 5);
  EXPECT_EQ(first.pages, 3);
  EXPECT_FALSE(first.has_prev);
  EXPECT_TRUE(first.has_next);
  EXPECT_EQ(first.prev_num, 0);
  EXPECT_EQ(first.next_num, 2);

  auto last = q.paginate(3, 2);
  ASSERT_EQ(last.items.size(), 1u);
  EXPECT_EQ(last.items[0]->username, "eve");
  EXPECT_TRUE(last.has_prev);
  EXPECT_FALSE(last.has_next);
  EXPECT_EQ(last.prev_num, 2);
  EXPECT_EQ(last.next_num, 0);

  auto beyond = q.paginate(4, 2);
  EXPECT_TRUE(beyond.items.empty());
  EXPECT_FALSE(beyond.has_next);

  // Numbers straight from a query string: nothing overflows.
  constexpr auto huge = std::numeric_limits<std::int64_t>::max();
  auto far = q.paginate(huge / 10, 20);
  EXPECT_TRUE(far.items.empty());
  EXPECT_EQ(far.pages, 1);
  auto wide = q.paginate(1, huge);
  EXPECT_EQ(wide.items.size(), 5u);
  EXPECT_EQ(wide.pages, 1);
  EXPECT_FALSE(wide.has_next);

  auto filtered = users().filter_by(&User::role, Role::writer).paginate(1, 20);
  EXPECT_EQ(filtered.total, 2) << "paginate() total ignored the filter";
  EXPECT_EQ(filtered.pages, 1);
}

TEST_P(Users, paginate_cuts_pages_of_the_rows_the_querys_own_limit_and_offset_leave) {
  // Its own limit and offset were replaced by the page's, while the total kept them: page 1
  // of a query limited to 3 rows held 5 of them.
  auto q = users().order_by(&User::username);
  auto names = [](const auto& page) {
    Names out;
    for (const auto& u : page.items) out.push_back(u->username);
    return out;
  };
  const auto limited = q.limit(3).paginate(1, 2);
  EXPECT_EQ(limited.total, 3);
  EXPECT_EQ(limited.pages, 2);
  EXPECT_EQ(names(limited), (Names{"ann", "bob"}));
  EXPECT_EQ(names(q.limit(3).paginate(2, 2)), (Names{"carl"}));
  EXPECT_TRUE(q.limit(3).paginate(3, 2).items.empty());
  const auto skipped = q.offset(3).paginate(1, 5);
  EXPECT_EQ(skipped.total, 2);
  EXPECT_EQ(names(skipped), (Names{"dora", "eve"}));
  EXPECT_EQ(names(q.offset(1).limit(3).paginate(2, 2)), (Names{"dora"}));
  EXPECT_TRUE(q.limit(0).paginate(1, 2).items.empty());
}

TEST_P(Users, paginate_runs_every_page_as_one_statement_with_its_limit_and_offset_bound) {
  auto q = users().order_by(&User::username);
  Names seen;
  for (int page = 1; page <= 3; ++page)
    for (const auto& u : q.paginate(page, 2).items) seen.push_back(u->username);
  EXPECT_EQ(seen, (Names{"ann", "bob", "carl", "dora", "eve"}));
  std::vector<backend::Statement> pages;
  for (const auto& st : statements())
    if (st.sql.find(" LIMIT ") != std::string::npos) pages.push_back(st);
  ASSERT_EQ(pages.size(), 3u) << dump();
  const std::string expected =
      spelled(" FROM {user} ORDER BY {user}.username LIMIT ? OFFSET ?");
  EXPECT_TRUE(pages[0].sql.ends_with(expected)) << dump();
  EXPECT_EQ(pages[1].sql, pages[0].sql) << "page 2 is a statement of its own\n" << dump();
  EXPECT_EQ(pages[2].sql, pages[0].sql) << "page 3 is a statement of its own\n" << dump();
  EXPECT_EQ(pages[0].params, "2, 0");
  EXPECT_EQ(pages[1].params, "2, 2");
  EXPECT_EQ(pages[2].params, "2, 4");
}

TEST_P(Users, paginate_prepares_one_statement_for_every_page) {
  BACKEND_REQUIRE(server_prepared_statements());
  auto q = users().order_by(&User::username);
  for (int page = 1; page <= 3; ++page) EXPECT_FALSE(q.paginate(page, 2).items.empty());
  EXPECT_EQ(prepared_statements_containing(
                session(), spelled(" FROM {user} ORDER BY {user}.username LIMIT ") + ph(1) +
                               " OFFSET " + ph(2)),
            1)
      << "the three pages were not served by one prepared statement";
}

TEST_P(Users, paginate_rejects_a_page_below_one) {
  EXPECT_THROW(users().paginate(0), strata::ArgumentError);
  EXPECT_THROW(users().paginate(-1, 10), strata::ArgumentError);
  EXPECT_THROW(users().paginate(1, 0), strata::ArgumentError);
}

// ---- bulk update and delete ----------------------------------------------------------------

TEST_P(Users, bulk_update_is_one_statement_and_updates_objects_in_the_session) {
  auto& s = session();
  auto carl = users().filter_by(&User::username, "carl").one();
  auto ann = users().filter_by(&User::username, "ann").one();
  clear_sql();
  auto matched = users()
                     .filter_by(&User::role, Role::reader)
                     .update(set(&User::active, false), set(&User::bio, std::nullopt));
  EXPECT_EQ(matched, 2);
  auto written = writes();
  ASSERT_EQ(written.size(), 1u) << "bulk update is not one statement\n" << dump();
  EXPECT_TRUE(written[0].starts_with(
      spelled("UPDATE {user} SET active = ?, bio = ? WHERE {user}.role = ?")))
      << written[0];
  EXPECT_FALSE(carl->active) << "an object of the session kept its old value";
  EXPECT_EQ(carl->bio, std::nullopt);
  EXPECT_FALSE(s.is_modified(carl)) << "the session would write the bulk change again";
  EXPECT_TRUE(ann->active) << "an object that did not match was changed";
  s.commit();
  EXPECT_EQ(writes().size(), 1u) << "commit() wrote the bulk-updated objects again\n" << dump();
  EXPECT_EQ(users().filter(col(&User::active) == false).count(), 3);
}

TEST_P(Users, bulk_update_rolls_back_with_the_transaction) {
  auto& s = session();
  auto carl = users().filter_by(&User::username, "carl").one();
  users().update(set(&User::bio, "same"));
  EXPECT_EQ(carl->bio, "same");
  s.rollback();
  EXPECT_EQ(carl->bio, "Cat person") << "rollback() kept the bulk-updated value";
  EXPECT_EQ(users().filter_by(&User::bio, "same").count(), 0);
}

TEST_P(Users, bulk_update_of_a_foreign_key_moves_the_objects_in_memory_as_a_reload_would) {
  auto& s = session();
  auto ann = users().filter_by(&User::username, "ann").one();
  auto bob = users().filter_by(&User::username, "bob").one();
  auto post = s.add(Post{.title = "p", .author = ann});
  s.commit();
  ASSERT_EQ(ann->posts.size(), 1u);
  ASSERT_TRUE(bob->posts.empty());
  s.query<Post>().filter(col(&Post::id) == post->id).update(set(&Post::user_id, bob->id));
  EXPECT_EQ(post->user_id, bob->id);
  EXPECT_EQ(post->author.get(), bob) << "post->author still names the old author";
  EXPECT_TRUE(ann->posts.empty()) << "the old author's loaded posts still list the post";
  ASSERT_EQ(bob->posts.size(), 1u) << "the new author's loaded posts lack the post";
  EXPECT_EQ(bob->posts[0], post);
  clear_sql();
  s.commit();
  EXPECT_TRUE(writes().empty()) << "commit() wrote the bulk-updated objects again\n" << dump();
  s.expunge_all();
  EXPECT_EQ(s.query<Post>().one()->author->username, "bob");
}

TEST_P(Users, bulk_update_of_the_primary_key_keeps_the_identity_map_in_step) {
  auto& s = session();
  auto ann = users().filter_by(&User::username, "ann").one();
  const auto old_id = ann->id;
  const auto new_id = old_id + 100;
  users().filter(col(&User::id) == old_id).update(set(&User::id, new_id));
  EXPECT_EQ(ann->id, new_id) << "the session's object kept the old key";
  EXPECT_EQ(s.get<User>(new_id), ann) << "the row under its new key is another object";
  EXPECT_EQ(s.get<User>(old_id), nullptr) << "the old key still finds the object";
  ann->bio = "moved";
  s.commit();  // the UPDATE finds the row by its new key
  s.expunge_all();
  EXPECT_EQ(s.get<User>(new_id)->bio, "moved");
  // Rolled back, the key and the identity map go back too.
  ann = s.get<User>(new_id);
  users().filter(col(&User::id) == new_id).update(set(&User::id, old_id));
  EXPECT_EQ(s.get<User>(old_id), ann);
  s.rollback();
  EXPECT_EQ(ann->id, new_id);
  EXPECT_EQ(s.get<User>(new_id), ann);
}

TEST_P(Users, bulk_delete_is_one_statement_and_removes_objects_from_the_session) {
  auto& s = session();
  auto bob = users().filter_by(&User::username, "bob").one();
  auto ann = users().filter_by(&User::username, "ann").one();
  auto bob_id = bob->id;
  clear_sql();
  auto deleted = users().filter(col(&User::active) == false).delete_();
  EXPECT_EQ(deleted, 1);
  auto written = writes();
  ASSERT_EQ(written.size(), 1u) << "bulk delete is not one statement\n" << dump();
  EXPECT_TRUE(written[0].starts_with(spelled("DELETE FROM {user} WHERE {user}.active = ?")))
      << written[0];
  EXPECT_FALSE(s.contains(bob)) << "a deleted object stayed in the session";
  EXPECT_TRUE(s.contains(ann));
  EXPECT_EQ(s.get<User>(bob_id), nullptr);
  s.commit();
  EXPECT_EQ(users().count(), 4);
}

TEST_P(Users, bulk_delete_rolls_back_with_the_transaction) {
  auto& s = session();
  auto bob = users().filter_by(&User::username, "bob").one();
  users().filter_by(&User::username, "bob").delete_();
  EXPECT_FALSE(s.contains(bob));
  s.rollback();
  EXPECT_TRUE(s.contains(bob)) << "rollback() did not bring back a bulk-deleted object";
  EXPECT_EQ(s.get<User>(bob->id), bob);
  EXPECT_EQ(users().count(), 5);
}

TEST_P(Users, bulk_update_and_delete_refuse_limit_offset_and_order_by) {
  EXPECT_THROW(users().limit(1).update(set(&User::active, false)), strata::ArgumentError);
  EXPECT_THROW(users().offset(1).delete_(), strata::ArgumentError);
  EXPECT_THROW(users().order_by(&User::username).delete_(), strata::ArgumentError);
  EXPECT_EQ(users().filter(col(&User::active) == false).count(), 1) << "something ran anyway";
  EXPECT_EQ(users().count(), 5);
}

// ---- streaming ---------------------------------------------------------------------------------

TEST_P(QueryTest, stream_yields_many_rows_in_order_without_growing_the_session) {
  auto& s = session();
  constexpr int n = 5000;
  for (int i = 0; i < n; ++i) {
    char title[16];
    std::snprintf(title, sizeof title, "task %04d", i);
    s.add(Task{.title = title, .priority = i});
  }
  s.commit();
  s.expunge_all();
  clear_sql();

  int seen = 0;
  bool in_order = true;
  for (const Task& t : s.query<Task>().order_by(desc(&Task::title)).stream()) {
    in_order = in_order && t.priority == n - 1 - seen;
    ++seen;
  }
  EXPECT_EQ(seen, n);
  EXPECT_TRUE(in_order) << "stream() did not follow order_by";
  EXPECT_EQ(selects().size(), 1u) << "stream() ran more than one query\n" << dump().substr(0, 2000);

  clear_sql();
  auto first = s.query<Task>().filter_by(&Task::priority, 0).one();
  EXPECT_EQ(selects().size(), 1u);
  EXPECT_EQ(first->title, "task 0000");
  clear_sql();
  EXPECT_NE(s.get<Task>(first->id + 1), nullptr);
  EXPECT_EQ(selects().size(), 1u) << "streamed rows went into the identity map";
}

TEST_P(QueryTest, stream_of_a_filtered_query_yields_only_matching_rows) {
  auto& s = session();
  for (int i = 0; i < 10; ++i) s.add(Task{.title = "t" + std::to_string(i), .priority = i});
  s.commit();
  std::vector<int> got;
  for (const Task& t :
       s.query<Task>().filter(col(&Task::priority) >= 7).order_by(&Task::id).stream())
    got.push_back(*t.priority);
  EXPECT_EQ(got, (std::vector<int>{7, 8, 9}));
}

// ---- raw SQL -------------------------------------------------------------------------------

TEST_P(Users, raw_sql_binds_parameters_and_a_quote_cannot_inject) {
  auto& s = session();
  auto inserted = s.execute("INSERT INTO " + q("user") + " (username, email, role, active) " +
                                "VALUES (" + ph(1) + ", " + ph(2) + ", 0, TRUE)",
                            {std::string("o'brien"), std::string("ob@x")});
  EXPECT_EQ(inserted.rows_affected, 1);
  EXPECT_EQ(users().filter_by(&User::username, "o'brien").count(), 1);

  auto select = "SELECT id, username FROM " + q("user") + " WHERE username = " + ph(1);
  EXPECT_EQ(s.execute(select, {std::string("o'brien")}).size(), 1u);
  EXPECT_EQ(s.execute(select, {std::string("x' OR '1'='1")}).size(), 0u)
      << "a parameter was pasted into the SQL";
  EXPECT_EQ(users().filter_by(&User::username, "x' OR '1'='1").count(), 0);
}

TEST_P(Users, raw_sql_rows_convert_by_position_and_by_name) {
  auto& s = session();
  auto r = s.execute("SELECT username, bio, role, active FROM " + q("user") +
                         " WHERE username IN (" + ph(1) + ", " + ph(2) + ") ORDER BY username",
                     {std::string("ann"), std::string("bob")});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r.columns, (Names{"username", "bio", "role", "active"}));
  const auto& ann = r.rows[0];
  const auto& bob = r.rows[1];
  EXPECT_EQ(ann.get<std::string>(0), "ann");
  EXPECT_EQ(ann.get<std::string>("bio"), "likes cats");
  EXPECT_EQ(ann.get<Role>("role"), Role::admin);
  EXPECT_EQ(ann.get<bool>("active"), true);
  EXPECT_EQ(bob.get<std::optional<std::string>>("bio"), std::nullopt);
  EXPECT_EQ(ann.get<std::optional<std::string>>("bio"), "likes cats");
  EXPECT_THROW(bob.get<std::string>("bio"), strata::DataError) << "NULL into a non-optional";
  EXPECT_THROW(ann.get<std::int64_t>("username"), strata::DataError) << "text into an integer";
  EXPECT_THROW(ann.get<std::string>("nope"), strata::ArgumentError) << "unknown column";

  auto updated = s.execute("UPDATE " + q("user") + " SET bio = " + ph(1) + " WHERE active = TRUE",
                           {std::string("x")});
  EXPECT_EQ(updated.rows_affected, 4);
  EXPECT_TRUE(updated.empty());
}

TEST_P(Users, raw_sql_autoflushes_pending_objects_first) {
  auto& s = session();
  s.add(User{.username = "fay", .email = "fay@x"});
  auto r = s.execute("SELECT count(*) FROM " + q("user"));
  EXPECT_EQ(r.rows.at(0).get<std::int64_t>(0), 6) << "execute() did not flush the pending add";
}

}  // namespace
