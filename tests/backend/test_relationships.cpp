// Relationships on a real database: lazy loading of HasMany and BelongsTo (SQL on first access
// only), back-populates in memory, foreign keys filled at flush, remove(), the save-update
// cascade, and DetachedInstanceError for objects outside a session.
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "backend.hpp"

// A guild keyed by its code; its heroes refer to the code ON UPDATE CASCADE, so that a guild's
// key can change under heroes that stay its own.
struct Hero;
struct Guild {
  std::string code{};
  strata::HasMany<Hero> heroes{};
};
struct Hero {
  std::int64_t id = 0;
  std::string guild_code{};
  strata::BelongsTo<Guild> guild{};
};

template <>
struct strata::Model<Guild> {
  static constexpr auto table = "guild";
  static auto columns() {
    return mapping(column("code", &Guild::code).primary_key().length(16),
                   has_many("heroes", &Guild::heroes).back_populates(&Hero::guild));
  }
};

template <>
struct strata::Model<Hero> {
  static constexpr auto table = "hero";
  static auto columns() {
    return mapping(column("id", &Hero::id).primary_key(),
                   column("guild_code", &Hero::guild_code)
                       .length(16)
                       .references(&Guild::code)
                       .on_update(strata::schema::ReferentialAction::cascade),
                   belongs_to("guild", &Hero::guild, &Hero::guild_code)
                       .back_populates(&Guild::heroes));
  }
};

// A guild's banner refers to its code ON UPDATE SET NULL (the row loses its guild when the
// code changes); a guild's hall is keyed by the code ON UPDATE CASCADE, without relationships.
struct Banner {
  std::int64_t id = 0;
  std::optional<std::string> guild_code{};
  strata::BelongsTo<Guild> guild{};
};
struct Hall {
  std::string guild_code{};
  std::string name{};
};

template <>
struct strata::Model<Banner> {
  static constexpr auto table = "banner";
  static auto columns() {
    return mapping(column("id", &Banner::id).primary_key(),
                   column("guild_code", &Banner::guild_code)
                       .length(16)
                       .references(&Guild::code)
                       .on_update(strata::schema::ReferentialAction::set_null),
                   belongs_to("guild", &Banner::guild, &Banner::guild_code));
  }
};

template <>
struct strata::Model<Hall> {
  static constexpr auto table = "hall";
  static auto columns() {
    return mapping(column("guild_code", &Hall::guild_code)
                       .primary_key()
                       .length(16)
                       .references(&Guild::code)
                       .on_update(strata::schema::ReferentialAction::cascade),
                   column("name", &Hall::name).length(40));
  }
};

// A clan's flags refer to its code ON UPDATE SET NULL, with references both ways.
struct Flag;
struct Clan {
  std::string code{};
  strata::HasMany<Flag> flags{};
};
struct Flag {
  std::int64_t id = 0;
  std::optional<std::string> clan_code{};
  strata::BelongsTo<Clan> clan{};
};

template <>
struct strata::Model<Clan> {
  static constexpr auto table = "clan";
  static auto columns() {
    return mapping(column("code", &Clan::code).primary_key().length(16),
                   has_many("flags", &Clan::flags).back_populates(&Flag::clan));
  }
};

template <>
struct strata::Model<Flag> {
  static constexpr auto table = "flag";
  static auto columns() {
    return mapping(column("id", &Flag::id).primary_key(),
                   column("clan_code", &Flag::clan_code)
                       .length(16)
                       .references(&Clan::code)
                       .on_update(strata::schema::ReferentialAction::set_null),
                   belongs_to("clan", &Flag::clan, &Flag::clan_code).back_populates(&Clan::flags));
  }
};

// A hall's rooms refer to its key (the guild's code) ON UPDATE CASCADE: a guild's new code
// reaches them through the hall's row. A node's parent is a node of the same table.
struct Room {
  std::int64_t id = 0;
  std::string hall_code{};
};
struct Node {
  std::string code{};
  std::optional<std::string> parent_code{};
  std::string name{};
};

template <>
struct strata::Model<Room> {
  static constexpr auto table = "room";
  static auto columns() {
    return mapping(column("id", &Room::id).primary_key(),
                   column("hall_code", &Room::hall_code)
                       .length(16)
                       .references(&Hall::guild_code)
                       .on_update(strata::schema::ReferentialAction::cascade));
  }
};

template <>
struct strata::Model<Node> {
  static constexpr auto table = "node";
  static auto columns() {
    return mapping(column("code", &Node::code).primary_key().length(16),
                   column("parent_code", &Node::parent_code)
                       .length(16)
                       .references(&Node::code)
                       .on_update(strata::schema::ReferentialAction::cascade),
                   column("name", &Node::name).length(16));
  }
};

namespace {

using strata::col;
using Sql = std::vector<std::string>;

BACKEND_SUITE(RelationshipsTest);

// ann with posts "one" and "two", bob with none; the session is then emptied.
class Seeded : public ::backend::WithAnnAndBob<RelationshipsTest> {};
INSTANTIATE_TEST_SUITE_P(backends, Seeded, ::testing::ValuesIn(::backend::test_urls()),
                         ::backend::url_label);

// Models with relationship fields move without throwing, so a std::vector of them moves its
// elements when it grows rather than copying every string.
static_assert(std::is_nothrow_move_constructible_v<strata::HasMany<Post>>);
static_assert(std::is_nothrow_move_constructible_v<strata::BelongsTo<User>>);
static_assert(std::is_nothrow_move_constructible_v<User>);
static_assert(std::is_nothrow_move_constructible_v<Post>);

TEST_P(Seeded, moving_models_takes_their_related_objects_along) {
  auto author = std::make_shared<User>(User{.username = "cy", .email = "c@x"});
  std::vector<User> users;
  users.push_back(User{.username = "dee", .email = "d@x",
                       .posts = {std::make_shared<Post>(Post{.title = "kept"})}});
  for (int i = 0; i < 100; ++i)  // grows the vector: its elements move
    users.push_back(User{.username = "u" + std::to_string(i), .email = std::to_string(i)});
  ASSERT_EQ(users.front().posts.size(), 1u);
  EXPECT_EQ(users.front().posts.all().front()->title, "kept");

  Post p{.title = "t", .author = author};
  Post moved = std::move(p);
  EXPECT_EQ(moved.author.get(), author);

  // A moved model is added and written like any other.
  auto& s = session();
  auto added = s.add(std::move(users.front()));
  s.commit();
  EXPECT_EQ(s.query<Post>().filter(col(&Post::user_id) == added->id).count(), 1);
}

// ---- lazy loading --------------------------------------------------------------------------

TEST_P(Seeded, has_many_loads_on_first_access_only) {
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  clear_sql();
  EXPECT_FALSE(ann->posts.loaded()) << "the collection was loaded with its owner";
  EXPECT_TRUE(selects().empty());

  ASSERT_EQ(ann->posts.size(), 2u);
  EXPECT_EQ(selects(), (Sql{spelled("SELECT {post}.id, {post}.title, {post}.body, {post}.votes, "
                                    "{post}.rating, {post}.user_id FROM {post} WHERE "
                                    "{post}.user_id = ? ORDER BY {post}.id")}))
      << dump();
  EXPECT_EQ(ann->posts[0]->title, "one");
  EXPECT_EQ(ann->posts[1]->title, "two");
  for (const auto& p : ann->posts) (void)p;
  EXPECT_EQ(selects().size(), 1u) << "a loaded collection queried again\n" << dump();
  EXPECT_EQ(ann->posts[0], s.get<Post>(one_id)) << "loaded items bypass the identity map";
}

TEST_P(Seeded, has_many_back_populates_the_author_of_loaded_items_without_sql) {
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  (void)ann->posts.all();
  clear_sql();
  EXPECT_EQ(ann->posts[0]->author.get(), ann) << "item.author is not the collection's owner";
  EXPECT_TRUE(sql().empty()) << "post.author was loaded with SQL after user.posts\n" << dump();
}

TEST_P(Seeded, belongs_to_loads_on_first_access_only) {
  auto& s = session();
  auto one = s.get<Post>(one_id);
  auto two = s.get<Post>(two_id);
  clear_sql();
  EXPECT_FALSE(one->author.loaded());

  EXPECT_EQ(one->author->username, "ann");
  EXPECT_EQ(selects(), (Sql{spelled("SELECT {user}.id, {user}.username, {user}.email, "
                                    "{user}.bio, {user}.role, {user}.active FROM {user} "
                                    "WHERE {user}.id = ?")}))
      << dump();
  EXPECT_EQ(one->author.get(), two->author.get()) << "one row, two author objects";
  EXPECT_EQ(selects().size(), 1u) << "the second author came from SQL, not the identity map\n"
                                  << dump();
}

TEST_P(Seeded, empty_collection_loads_as_empty) {
  auto bob = session().get<User>(bob_id);
  EXPECT_TRUE(bob->posts.empty());
  EXPECT_TRUE(bob->posts.loaded());
}

// ---- back-populates and foreign keys -------------------------------------------------------

TEST_P(Seeded, assigning_post_author_appends_to_the_loaded_collection_of_the_user) {
  auto& s = session();
  auto bob = s.get<User>(bob_id);
  auto ann = s.get<User>(ann_id);
  (void)bob->posts.all();
  (void)ann->posts.all();
  auto one = s.get<Post>(one_id);

  one->author = bob;
  ASSERT_EQ(bob->posts.size(), 1u) << "post.author = bob did not append to bob.posts";
  EXPECT_EQ(bob->posts[0], one);
  EXPECT_EQ(ann->posts.size(), 1u) << "the post stayed in its previous author's posts";
  clear_sql();
  s.commit();
  EXPECT_EQ(writes(), (Sql{spelled("UPDATE {post} SET user_id = ? WHERE {post}.id = ?")}))
      << dump();
  EXPECT_EQ(one->user_id, bob_id) << "post.user_id was not synced from post.author";
}

TEST_P(Seeded, new_post_with_author_appends_to_the_loaded_collection) {
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  (void)ann->posts.all();
  auto three = s.add(Post{.title = "three", .author = ann});
  ASSERT_EQ(ann->posts.size(), 3u) << "adding a post with an author did not back-populate";
  EXPECT_EQ(ann->posts[2], three);
  s.commit();
  EXPECT_EQ(three->user_id, ann_id);
}

TEST_P(Seeded, append_sets_the_back_reference_and_fills_the_foreign_key_at_flush) {
  auto& s = session();
  auto bob = s.get<User>(bob_id);
  auto post = std::make_shared<Post>(Post{.title = "by bob"});
  bob->posts.append(post);
  EXPECT_EQ(post->author.get(), bob) << "append() did not set post.author";
  clear_sql();
  s.commit();
  EXPECT_EQ(writes(), (Sql{insert_sql("INSERT INTO {post} (title, body, votes, rating, user_id) "
                                      "VALUES (?, ?, ?, ?, ?)")}))
      << "the appended post was not inserted through the cascade\n"
      << dump();
  EXPECT_TRUE(s.contains(post));
  EXPECT_EQ(post->user_id, bob_id) << "post.user_id was not filled from the collection's owner";
  auto other = db().new_session();
  EXPECT_EQ(other.get<Post>(post->id)->user_id, bob_id);
}

TEST_P(Seeded, append_moves_an_item_from_its_previous_owner) {
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  auto bob = s.get<User>(bob_id);
  auto one = ann->posts[0];
  bob->posts.append(one);
  EXPECT_EQ(one->author.get(), bob);
  EXPECT_EQ(ann->posts.size(), 1u) << "the post stayed in its previous owner's collection";
  clear_sql();
  s.commit();
  EXPECT_EQ(writes(), (Sql{spelled("UPDATE {post} SET user_id = ? WHERE {post}.id = ?")}))
      << dump();
  EXPECT_EQ(one->user_id, bob_id);
}

TEST_P(RelationshipsTest, user_built_with_posts_inserts_them_after_the_user) {
  auto& s = session();
  auto first = std::make_shared<Post>(Post{.title = "first"});
  auto second = std::make_shared<Post>(Post{.title = "second"});
  auto ann = s.add(User{.username = "ann", .email = "a@x", .posts = {first, second}});
  EXPECT_EQ(first->author.get(), ann) << "the collection did not back-populate post.author";
  s.commit();
  auto inserts = writes();
  ASSERT_EQ(inserts.size(), batched_inserts() ? 2u : 3u) << dump();
  EXPECT_TRUE(inserts[0].starts_with(spelled("INSERT INTO {user}"))) << dump();
  EXPECT_EQ(first->user_id, ann->id);
  EXPECT_EQ(second->user_id, ann->id);
  EXPECT_TRUE(s.contains(second)) << "items of a new collection did not join the session";
}

TEST_P(Seeded, remove_sets_the_back_reference_null_and_the_foreign_key_null_at_flush) {
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  auto home = std::make_shared<Address>(Address{.street = "1 Main St"});
  ann->addresses.append(home);
  s.commit();
  ASSERT_EQ(home->user_id, ann_id);
  clear_sql();

  ann->addresses.remove(home);
  EXPECT_EQ(home->user.get(), nullptr) << "remove() did not clear address.user";
  EXPECT_TRUE(ann->addresses.empty());
  s.commit();
  EXPECT_EQ(writes(), (Sql{spelled("UPDATE {address} SET user_id = ? WHERE {address}.id = ?")}))
      << dump();
  EXPECT_EQ(home->user_id, std::nullopt) << "address.user_id was not set NULL";
  auto other = db().new_session();
  EXPECT_EQ(other.get<Address>(home->id)->user_id, std::nullopt);
}

TEST_P(Seeded, assigning_a_new_user_as_author_inserts_the_user_first) {
  auto& s = session();
  auto one = s.get<Post>(one_id);
  auto carl = std::make_shared<User>(User{.username = "carl", .email = "carl@x"});
  one->author = carl;
  clear_sql();
  s.commit();
  EXPECT_EQ(writes(), (Sql{insert_sql("INSERT INTO {user} (username, email, bio, role, active) "
                                      "VALUES (?, ?, ?, ?, ?)"),
                           spelled("UPDATE {post} SET user_id = ? WHERE {post}.id = ?")}))
      << "the new author was not inserted before the post's UPDATE\n"
      << dump();
  EXPECT_TRUE(s.contains(carl)) << "the new author did not join the session";
  EXPECT_EQ(one->user_id, carl->id);
}

TEST_P(Seeded, post_user_id_set_by_hand_is_kept_when_author_is_untouched) {
  auto& s = session();
  auto one = s.get<Post>(one_id);
  one->user_id = bob_id;
  s.commit();
  EXPECT_EQ(one->user_id, bob_id) << "flush overwrote the foreign key from an unloaded author";
  EXPECT_EQ(one->author->username, "bob");
}

TEST_P(Seeded, a_new_post_given_its_foreign_key_by_value_refers_to_that_user_once_flushed) {
  // Post{.user_id = 7}, as a form's input gives it: the reference follows the key, as it does
  // for a stored post whose key is set by hand.
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  ASSERT_EQ(ann->posts.size(), 2u);
  auto three = s.add(Post{.title = "three", .user_id = ann_id});
  s.flush();
  clear_sql();
  EXPECT_EQ(three->author.get(), ann) << "the new post's author is not the user its key names";
  ASSERT_EQ(ann->posts.size(), 3u) << "ann's loaded posts miss the new post";
  EXPECT_EQ(ann->posts[2], three);
  EXPECT_TRUE(sql().empty()) << "the session holds ann and her posts: no SQL needed\n" << dump();
  // A user the session does not hold: loaded by the key on first access.
  auto four = s.add(Post{.title = "four", .user_id = bob_id});
  s.commit();
  ASSERT_TRUE(four->author.get() != nullptr) << "the new post's author did not load by its key";
  EXPECT_EQ(four->author->username, "bob");
  EXPECT_EQ(four->author->posts.size(), 1u);
  EXPECT_EQ(four->author->posts[0], four) << "one object per row";
  // A copy of a stored post (its reference copied, its key changed) is a new row under bob.
  Post copy = *three;
  copy.id = 0;
  copy.title = "copy";
  copy.user_id = bob_id;
  auto five = s.add(std::move(copy));
  s.commit();
  EXPECT_EQ(five->author.get(), four->author.get()) << "the copy still refers to ann";
  EXPECT_EQ(ann->posts.size(), 3u);
  EXPECT_EQ(four->author->posts.size(), 2u);
  // What the database holds, read anew.
  s.expunge_all();
  EXPECT_EQ(s.get<User>(ann_id)->posts.size(), 3u);
  EXPECT_EQ(s.get<User>(bob_id)->posts.size(), 2u);
}

TEST_P(RelationshipsTest, a_null_object_in_a_collection_of_an_added_object_is_an_argument_error) {
  auto& s = session();
  EXPECT_THROW(s.add(User{.username = "ann", .email = "a@x", .posts = {nullptr}}),
               strata::ArgumentError);
}

TEST_P(RelationshipsTest, pending_user_posts_hold_what_was_given_without_sql) {
  auto& s = session();
  auto ann = s.add(User{.username = "ann", .email = "a@x"});
  auto p = s.add(Post{.title = "t", .author = ann});
  EXPECT_EQ(ann->posts.size(), 1u) << "a pending user's posts were not back-populated";
  EXPECT_TRUE(sql().empty()) << dump();
  s.commit();
  EXPECT_EQ(p->user_id, ann->id);
}

// ---- objects outside a session ----------------------------------------------------------------

TEST_P(Seeded, relationship_of_a_streamed_object_is_a_detached_instance_error) {
  std::size_t seen = 0;
  for (const auto& p : session().query<Post>().stream()) {
    ++seen;
    EXPECT_THROW((void)p.author.get(), strata::DetachedInstanceError)
        << "a streamed object's relationship loaded";
  }
  for (const auto& u : session().query<User>().stream())
    EXPECT_THROW((void)u.posts.size(), strata::DetachedInstanceError);
  EXPECT_EQ(seen, 2u);
}

TEST_P(Seeded, unloaded_relationship_after_close_is_a_detached_instance_error) {
  auto& s = session();
  auto one = s.get<Post>(one_id);
  auto ann = s.get<User>(ann_id);
  s.close();
  try {
    (void)one->author.get();
    FAIL() << "an unloaded relationship loaded after close()";
  } catch (const strata::DetachedInstanceError& e) {
    EXPECT_NE(std::string(e.what()).find("Post.author"), std::string::npos)
        << "the relationship is not named: " << e.what();
  }
  EXPECT_THROW((void)ann->posts.all(), strata::DetachedInstanceError);
}

TEST_P(Seeded, unloaded_relationship_after_expunge_is_a_detached_instance_error) {
  auto& s = session();
  auto one = s.get<Post>(one_id);
  s.expunge(one);
  EXPECT_THROW((void)one->author.get(), strata::DetachedInstanceError);
}

// Many children of one parent: each is walked, looked up and taken out once, so that n of them
// cost n steps rather than n^2. Before, each append listed the parent once more among the
// objects whose relationships changed, and the flush walked the parent once per listing: 20,000
// posts appended one by one to one user took over 3 GB and minutes to commit. Each append and
// each back-population also searched the whole list.
constexpr int many = 20'000;

std::shared_ptr<Post> numbered_post(int i) {
  return std::make_shared<Post>(Post{.title = "p" + std::to_string(i)});
}

// bob with `many` posts p0, p1, ... committed; the session emptied after.
void give_bob_many_posts(strata::Session& s, std::int64_t bob_id) {
  for (int i = 0; i < many; ++i)
    s.add(Post{.title = "p" + std::to_string(i), .user_id = bob_id});
  s.commit();
  s.expunge_all();
}

TEST_P(Seeded, many_posts_appended_one_by_one_to_one_user_are_committed_under_it) {
  auto& s = session();
  auto bob = s.get<User>(bob_id);
  for (int i = 0; i < many; ++i) bob->posts.append(numbered_post(i));
  bob->posts.append(bob->posts[7]);  // held already: a long list looks it up in its set
  ASSERT_EQ(bob->posts.size(), static_cast<std::size_t>(many));
  s.commit();
  EXPECT_EQ(s.query<Post>().filter(col(&Post::user_id) == bob_id).count(), many);
  s.expunge_all();
  auto again = s.get<User>(bob_id);
  ASSERT_EQ(again->posts.size(), static_cast<std::size_t>(many));
  EXPECT_EQ(again->posts[many - 1]->author.get(), again);
}

TEST_P(Seeded, a_new_user_added_with_many_new_posts_brings_them_all_in) {
  auto& s = session();
  auto cy = std::make_shared<User>(User{.username = "cy", .email = "cy@x"});
  for (int i = 0; i < many; ++i) cy->posts.append(numbered_post(i));
  s.add(cy);
  EXPECT_EQ(cy->posts.size(), static_cast<std::size_t>(many));
  EXPECT_EQ(cy->posts[many - 1]->author.get(), cy);
  s.commit();
  EXPECT_EQ(s.query<Post>().filter(col(&Post::user_id) == cy->id).count(), many);
}

TEST_P(Seeded, many_posts_moved_by_key_leave_one_loaded_collection_and_join_another) {
  auto& s = session();
  give_bob_many_posts(s, bob_id);
  auto ann = s.get<User>(ann_id);
  auto bob = s.get<User>(bob_id);
  ASSERT_EQ(ann->posts.size(), 2u);
  const auto before = bob->posts.all();
  ASSERT_EQ(before.size(), static_cast<std::size_t>(many));
  bob->posts.append(before[1]);  // held: a no-op, which builds the list's set of addresses
  for (int i = 0; i < many; i += 2) before[i]->user_id = ann_id;  // every other one, by hand
  s.flush();
  ASSERT_EQ(ann->posts.size(), 2u + many / 2);
  ASSERT_EQ(bob->posts.size(), static_cast<std::size_t>(many / 2));
  for (int i = 0; i < many / 2; ++i) {
    // Both lists keep their order: ann's two first, then the moved ones as bob listed them.
    EXPECT_EQ(ann->posts[2 + i], before[2 * i]) << i;
    EXPECT_EQ(bob->posts[i], before[2 * i + 1]) << i;
    if (HasFailure()) break;
  }
  EXPECT_EQ(before[0]->author.get(), ann);
  // A moved post given back through its reference joins bob's list again: the list's set of
  // addresses (built by the append below, which finds the post held) went with the posts
  // taken out.
  before[0]->author = bob;
  EXPECT_EQ(bob->posts.size(), static_cast<std::size_t>(many / 2 + 1));
  EXPECT_EQ(ann->posts.size(), 2u + many / 2 - 1);
  s.commit();
  EXPECT_EQ(s.query<Post>().filter(col(&Post::user_id) == ann_id).count(), 2 + many / 2 - 1);
  EXPECT_EQ(s.query<Post>().filter(col(&Post::user_id) == bob_id).count(), many / 2 + 1);
}

TEST_P(Seeded, many_deleted_posts_leave_their_users_loaded_collection_at_commit) {
  auto& s = session();
  give_bob_many_posts(s, bob_id);
  auto bob = s.get<User>(bob_id);
  const auto before = bob->posts.all();
  ASSERT_EQ(before.size(), static_cast<std::size_t>(many));
  for (int i = 0; i < many; i += 2) s.delete_(before[i]);
  s.commit();
  ASSERT_EQ(bob->posts.size(), static_cast<std::size_t>(many / 2));
  for (int i = 0; i < many / 2; ++i) {
    EXPECT_EQ(bob->posts[i], before[2 * i + 1]) << i;
    if (HasFailure()) break;
  }
  EXPECT_EQ(s.query<Post>().filter(col(&Post::user_id) == bob_id).count(), many / 2);
}

TEST_P(Seeded, a_long_collection_holds_an_object_once_and_takes_it_back_after_a_remove) {
  // Outside a session and in one: past 32 objects a list looks objects up in a set of their
  // addresses, which must follow every append and remove.
  strata::HasMany<Post> loose;
  for (int i = 0; i < 40; ++i) loose.append(numbered_post(i));
  auto p = loose[5];
  loose.append(p);
  EXPECT_EQ(loose.size(), 40u);
  loose.remove(p);
  EXPECT_EQ(loose.size(), 39u);
  loose.append(p);
  ASSERT_EQ(loose.size(), 40u);
  EXPECT_EQ(loose[39], p);

  auto& s = session();
  auto bob = s.get<User>(bob_id);
  for (int i = 0; i < 40; ++i) bob->posts.append(numbered_post(i));
  s.commit();
  auto q = bob->posts[5];
  bob->posts.remove(q);
  bob->posts.append(q);
  ASSERT_EQ(bob->posts.size(), 40u);
  EXPECT_EQ(bob->posts[39], q);
  bob->posts.append(q);
  EXPECT_EQ(bob->posts.size(), 40u);
}

TEST_P(Seeded, a_post_moved_by_key_from_a_user_that_only_it_still_holds_is_moved) {
  // The old parent's list is gone through after the reference moved on: it must still exist
  // then, though the reference was the last to hold it.
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  auto p = ann->posts[0];
  auto bob = s.get<User>(bob_id);
  ASSERT_TRUE(bob->posts.empty());
  s.expunge(ann->posts[1]);  // ann's other post lets go of ann (its reference expires)
  s.expunge(ann);
  std::weak_ptr<User> watch = ann;
  ann.reset();
  ASSERT_FALSE(watch.expired()) << "the post's reference no longer holds its user";
  p->user_id = bob_id;
  s.flush();
  EXPECT_TRUE(watch.expired()) << "something still holds ann";
  EXPECT_EQ(p->author.get(), bob);
  ASSERT_EQ(bob->posts.size(), 1u);
  EXPECT_EQ(bob->posts[0], p);
}

TEST_P(Seeded, appending_to_a_long_loaded_collection_writes_the_new_post_alone_each_commit) {
  // Of a stored user, a flush walks what its collection gained since the last flush, not all
  // it holds: a post that left the session, still listed, is not taken back in (nor written
  // again as a new row), as SQLAlchemy leaves it too.
  auto& s = session();
  give_bob_many_posts(s, bob_id);
  auto bob = s.get<User>(bob_id);
  ASSERT_EQ(bob->posts.size(), static_cast<std::size_t>(many));
  auto gone = bob->posts[3];
  s.expunge(gone);
  for (int i = 0; i < 3; ++i) {
    auto post = numbered_post(many + i);
    bob->posts.append(post);
    clear_sql();
    s.commit();
    EXPECT_EQ(writes(), (Sql{insert_sql("INSERT INTO {post} (title, body, votes, rating, user_id) "
                                        "VALUES (?, ?, ?, ?, ?)")}))
        << dump();
    EXPECT_EQ(post->user_id, bob_id);
    EXPECT_TRUE(s.contains(post));
  }
  EXPECT_FALSE(s.contains(gone));
  EXPECT_EQ(bob->posts.size(), static_cast<std::size_t>(many + 3));
  EXPECT_EQ(s.query<Post>().filter(col(&Post::user_id) == bob_id).count(), many + 3);
}

TEST_P(Seeded, a_new_post_appended_to_a_stored_user_and_removed_before_the_flush_is_not_written) {
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  ASSERT_EQ(ann->posts.size(), 2u);
  auto post = numbered_post(0);
  ann->posts.append(post);
  ann->posts.remove(post);
  auto kept = numbered_post(1);
  ann->posts.append(kept);
  clear_sql();
  s.commit();
  EXPECT_EQ(writes(), (Sql{insert_sql("INSERT INTO {post} (title, body, votes, rating, user_id) "
                                      "VALUES (?, ?, ?, ?, ?)")}))
      << dump();
  EXPECT_FALSE(s.contains(post));
  EXPECT_EQ(post->author.get(), nullptr);
  EXPECT_EQ(kept->user_id, ann_id);
  EXPECT_EQ(s.query<Post>().filter(col(&Post::user_id) == ann_id).count(), 3);
}

TEST_P(Seeded, new_posts_given_an_author_then_deleted_leave_nothing_for_the_flush_to_write) {
  // Each post is listed among the objects whose relationships changed; deleting a new object
  // drops it from the session at once, and the list keeps its place (a free slot, then taken
  // by one of the next posts): the flush writes exactly what is left.
  auto& s = session();
  auto ann = s.get<User>(ann_id);
  auto bob = s.get<User>(bob_id);
  std::vector<std::shared_ptr<Post>> dropped;
  for (int i = 0; i < 50; ++i) {
    auto p = s.add(numbered_post(i));
    p->author = bob;
    dropped.push_back(p);
  }
  for (const auto& p : dropped) s.delete_(p);
  std::vector<std::shared_ptr<Post>> kept;
  for (int i = 0; i < 30; ++i) {
    auto p = s.add(numbered_post(100 + i));
    p->author = i % 2 == 0 ? ann : bob;
    kept.push_back(p);
  }
  clear_sql();
  s.commit();
  for (const auto& p : dropped) EXPECT_FALSE(s.contains(p));
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(kept[i]->user_id, i % 2 == 0 ? ann_id : bob_id) << i;
    EXPECT_TRUE(s.contains(kept[i])) << i;
  }
  s.expunge_all();
  EXPECT_EQ(s.query<Post>().filter(col(&Post::user_id) == ann_id).count(), 2 + 15);
  EXPECT_EQ(s.query<Post>().filter(col(&Post::user_id) == bob_id).count(), 15);
}

class Guilds : public ::backend::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    db().register_models<Guild, Hero, Banner, Hall, Room, Node, Clan, Flag>();
    db().create_all();
  }
  void TearDown() override {
    session().close();
    db().drop_all();
    BackendTest::TearDown();
  }
  // Guild "red" with two heroes, committed; the session emptied, then the guild loaded again.
  std::shared_ptr<Guild> red_guild_of_two_heroes() {
    auto& s = session();
    auto reds = s.add(Guild{.code = "red"});
    s.add(Hero{.guild = reds});
    s.add(Hero{.guild = reds});
    s.commit();
    s.expunge_all();
    return s.get<Guild>(std::string("red"));
  }
};
INSTANTIATE_TEST_SUITE_P(backends, Guilds, ::testing::ValuesIn(::backend::test_urls()),
                         ::backend::url_label);

TEST_P(Guilds, a_hero_whose_key_follows_its_guilds_new_key_stays_in_the_guilds_list) {
  auto& s = session();
  auto guild = red_guild_of_two_heroes();
  ASSERT_EQ(guild->heroes.size(), 2u);  // loaded: each hero's reference too
  auto first = guild->heroes[0];
  guild->code = "crimson";
  first->guild_code = "crimson";  // by hand, as the database's cascade will
  s.flush();
  ASSERT_EQ(guild->heroes.size(), 2u) << "the hero left the list of the guild it still has";
  EXPECT_EQ(first->guild.get(), guild);
  s.commit();
  s.expunge_all();
  EXPECT_EQ(s.get<Guild>(std::string("crimson"))->heroes.size(), 2u);
}

TEST_P(Guilds, a_query_of_heroes_flushes_a_guild_key_whose_change_cascades_into_them) {
  auto& s = session();
  auto reds = s.add(Guild{.code = "red"});
  s.add(Hero{.guild = reds});
  s.add(Hero{.guild = reds});
  s.commit();
  reds->code = "crimson";  // ON UPDATE CASCADE carries it into the heroes' rows
  EXPECT_EQ(s.query<Hero>().filter(col(&Hero::guild_code) == "crimson").count(), 2)
      << "the query of heroes did not flush the guild key its rows follow";
  EXPECT_FALSE(s.is_modified(reds));
}

TEST_P(Guilds, a_query_of_a_model_not_registered_yet_flushes_every_changed_column) {
  // A Database that has not registered Hero: the foreign key its table's rows follow is not
  // known when the first query of heroes autoflushes, so that query looks at every object.
  BACKEND_REQUIRE(shared_database());
  {
    auto& s = session();
    auto reds = s.add(Guild{.code = "red"});
    s.add(Hero{.guild = reds});
    s.commit();
  }
  auto other = open_another();
  auto s = other->new_session();
  auto reds = s.get<Guild>(std::string("red"));
  ASSERT_TRUE(reds);
  reds->code = "crimson";
  EXPECT_EQ(s.query<Hero>().filter(col(&Hero::guild_code) == "crimson").count(), 1)
      << "the query of heroes did not flush the guild key its rows follow";
  EXPECT_FALSE(s.is_modified(reds));
  s.rollback();
}

TEST_P(Guilds, a_guild_whose_key_changes_as_it_gains_a_hero_gives_every_hero_the_new_key) {
  // Only the heroes appended since the last flush need a stored guild's key, unless the key
  // changed: then all of them do (in memory; ON UPDATE CASCADE has the rows follow).
  auto& s = session();
  auto guild = red_guild_of_two_heroes();
  ASSERT_EQ(guild->heroes.size(), 2u);
  guild->code = "crimson";
  auto fresh = std::make_shared<Hero>();
  guild->heroes.append(fresh);
  s.commit();
  ASSERT_EQ(guild->heroes.size(), 3u);
  for (const auto& hero : guild->heroes) {
    EXPECT_EQ(hero->guild_code, "crimson") << "hero " << hero->id;
    EXPECT_FALSE(s.is_modified(hero)) << "hero " << hero->id;
  }
  s.expunge_all();
  EXPECT_EQ(s.query<Hero>().filter(col(&Hero::guild_code) == "crimson").count(), 3);
}

// A key changed by a flush reaches the objects the session holds that refer to it, as the
// database's ON UPDATE action reaches their rows (SQLAlchemy's passive_updates).

TEST_P(Guilds, a_guilds_new_key_reaches_its_loaded_heroes_without_writing_them) {
  auto& s = session();
  auto guild = red_guild_of_two_heroes();
  ASSERT_EQ(guild->heroes.size(), 2u);
  guild->code = "crimson";
  clear_sql();
  s.commit();
  EXPECT_EQ(writes(), (Sql{spelled("UPDATE {guild} SET code = ? WHERE {guild}.code = ?")}))
      << dump();
  ASSERT_EQ(guild->heroes.size(), 2u);
  for (const auto& hero : guild->heroes) {
    EXPECT_EQ(hero->guild_code, "crimson") << "hero " << hero->id;
    EXPECT_FALSE(s.is_modified(hero)) << "hero " << hero->id;
    EXPECT_EQ(hero->guild.get(), guild);
  }
  // Still the guild's own: deleting it finds them, whose key may not be NULL (rather than
  // taking them for moved away and leaving the database to refuse the DELETE).
  s.delete_(guild);
  try {
    s.flush();
    ADD_FAILURE() << "the guild was deleted from under its heroes";
  } catch (const strata::IntegrityError& e) {
    EXPECT_NE(std::string(e.what()).find("would set 'hero.guild_code' to NULL"), std::string::npos)
        << e.what();
  }
  s.rollback();
  EXPECT_EQ(s.query<Hero>().filter(col(&Hero::guild_code) == "crimson").count(), 2);
}

TEST_P(Guilds, heroes_loaded_apart_from_their_guild_follow_its_new_key) {
  auto& s = session();
  red_guild_of_two_heroes();
  s.expunge_all();
  auto heroes = s.query<Hero>().order_by(&Hero::id).all();
  ASSERT_EQ(heroes.size(), 2u);
  auto guild = s.get<Guild>(std::string("red"));
  guild->code = "crimson";
  s.commit();
  for (const auto& hero : heroes) {
    EXPECT_EQ(hero->guild_code, "crimson") << "hero " << hero->id;
    EXPECT_FALSE(s.is_modified(hero)) << "hero " << hero->id;
  }
  clear_sql();
  EXPECT_EQ(heroes[0]->guild.get(), guild);
  EXPECT_TRUE(selects().empty()) << dump();
}

TEST_P(Guilds, a_hero_moved_by_hand_as_its_guilds_key_changes_keeps_its_move) {
  auto& s = session();
  s.add(Guild{.code = "blue"});
  auto guild = red_guild_of_two_heroes();
  auto moved = guild->heroes[0];
  auto stays = guild->heroes[1];
  guild->code = "crimson";
  moved->guild_code = "blue";
  s.commit();
  EXPECT_EQ(moved->guild_code, "blue");
  EXPECT_EQ(stays->guild_code, "crimson");
  EXPECT_FALSE(s.is_modified(moved));
  EXPECT_FALSE(s.is_modified(stays));
  EXPECT_EQ(guild->heroes.size(), 1u);
  s.expunge_all();
  EXPECT_EQ(s.query<Hero>().filter(col(&Hero::guild_code) == "blue").count(), 1);
  EXPECT_EQ(s.query<Hero>().filter(col(&Hero::guild_code) == "crimson").count(), 1);
}

TEST_P(Guilds, a_key_change_rolled_back_gives_the_heroes_their_key_back) {
  auto& s = session();
  auto guild = red_guild_of_two_heroes();
  auto hero = guild->heroes[0];
  guild->code = "crimson";
  s.flush();
  EXPECT_EQ(hero->guild_code, "crimson");
  s.rollback();
  EXPECT_EQ(guild->code, "red");
  EXPECT_EQ(hero->guild_code, "red");
  EXPECT_FALSE(s.is_modified(hero));
  EXPECT_EQ(s.query<Hero>().filter(col(&Hero::guild_code) == "red").count(), 2);
}

TEST_P(Guilds, a_banner_loses_its_guild_when_the_key_it_refers_to_changes_on_update_set_null) {
  auto& s = session();
  {
    auto reds = s.add(Guild{.code = "red"});
    s.add(Banner{.guild = reds});
    s.commit();
    s.expunge_all();
  }
  auto banner = s.query<Banner>().one();
  auto guild = banner->guild.get();
  ASSERT_TRUE(guild);
  guild->code = "crimson";
  s.commit();
  EXPECT_EQ(banner->guild_code, std::nullopt);
  EXPECT_EQ(banner->guild.get(), nullptr);
  EXPECT_FALSE(s.is_modified(banner));
  s.expunge_all();
  EXPECT_EQ(s.query<Banner>().filter(col(&Banner::guild_code).is_null()).count(), 1);
}

TEST_P(Guilds, a_clans_new_code_takes_its_flags_out_of_its_list_but_one_given_to_it_again) {
  auto& s = session();
  {
    auto reds = s.add(Clan{.code = "red"});
    s.add(Flag{.clan = reds});
    s.add(Flag{.clan = reds});
    s.commit();
    s.expunge_all();
  }
  auto clan = s.query<Clan>().one();
  ASSERT_EQ(clan->flags.size(), 2u);
  auto dropped = clan->flags[0];
  auto kept = clan->flags[1];
  kept->clan = clan;  // given again: the flush writes its new key
  clan->code = "crimson";
  s.commit();
  EXPECT_EQ(dropped->clan_code, std::nullopt);
  EXPECT_EQ(dropped->clan.get(), nullptr);
  EXPECT_EQ(kept->clan_code, "crimson");
  EXPECT_EQ(kept->clan.get(), clan);
  ASSERT_EQ(clan->flags.size(), 1u);
  EXPECT_EQ(clan->flags[0], kept);
  s.expunge_all();
  EXPECT_EQ(s.query<Flag>().filter(col(&Flag::clan_code) == "crimson").count(), 1);
  EXPECT_EQ(s.query<Flag>().filter(col(&Flag::clan_code).is_null()).count(), 1);
}

TEST_P(Guilds, a_hall_keyed_by_its_guilds_code_is_found_by_the_new_key) {
  auto& s = session();
  s.add(Guild{.code = "red"});
  s.add(Hall{.guild_code = "red", .name = "Red Hall"});
  s.commit();
  s.expunge_all();
  auto hall = s.get<Hall>(std::string("red"));
  auto guild = s.get<Guild>(std::string("red"));
  guild->code = "crimson";
  s.commit();
  EXPECT_EQ(hall->guild_code, "crimson");
  clear_sql();
  EXPECT_EQ(s.get<Hall>(std::string("crimson")), hall);
  EXPECT_TRUE(selects().empty()) << dump();
  EXPECT_EQ(s.get<Hall>(std::string("red")), nullptr);
  hall->name = "Crimson Hall";
  s.commit();  // an UPDATE by the new key, which matches the row
  s.expunge_all();
  EXPECT_EQ(s.get<Hall>(std::string("crimson"))->name, "Crimson Hall");
}

// The session holds the guild, not its hall: the new code reaches the hall's row only at a
// flush, which get()'s autoflush makes when the first SELECT finds nothing; get() returned
// null without selecting again.
TEST_P(Guilds, get_finds_a_row_that_its_own_autoflush_gives_the_key) {
  auto& s = session();
  s.add(Guild{.code = "red"});
  s.add(Hall{.guild_code = "red", .name = "Red Hall"});
  s.commit();
  s.expunge_all();
  auto guild = s.get<Guild>(std::string("red"));
  guild->code = "crimson";
  auto hall = s.get<Hall>(std::string("crimson"));
  ASSERT_TRUE(hall) << "the row the autoflush gave the key was not found\n" << dump();
  EXPECT_EQ(hall->name, "Red Hall");
  EXPECT_FALSE(s.is_modified(guild));
  EXPECT_EQ(s.get<Hall>(std::string("red")), nullptr);
  clear_sql();
  EXPECT_EQ(s.get<Hall>(std::string("blue")), nullptr);
  EXPECT_EQ(selects().size(), 1u) << "nothing to flush: one SELECT\n" << dump();
}

TEST_P(Guilds, a_room_follows_its_guilds_new_code_through_a_hall_the_session_does_not_hold) {
  auto& s = session();
  s.add(Guild{.code = "red"});
  s.add(Hall{.guild_code = "red", .name = "Red Hall"});
  s.add(Room{.id = 1, .hall_code = "red"});
  s.commit();
  s.expunge_all();
  auto room = s.get<Room>(std::int64_t{1});
  auto guild = s.get<Guild>(std::string("red"));
  guild->code = "crimson";
  s.commit();
  EXPECT_EQ(room->hall_code, "crimson");
  EXPECT_FALSE(s.is_modified(room));
  s.expunge_all();
  EXPECT_EQ(s.get<Room>(std::int64_t{1})->hall_code, "crimson");
}

TEST_P(Guilds, nodes_follow_a_new_code_of_a_node_of_their_own_table) {
  auto& s = session();
  s.add(Node{.code = "a", .name = "A"});
  s.add(Node{.code = "b", .parent_code = "a", .name = "B"});
  s.add(Node{.code = "c", .parent_code = "b", .name = "C"});
  s.commit();
  s.expunge_all();
  auto a = s.get<Node>(std::string("a"));
  auto b = s.get<Node>(std::string("b"));
  auto c = s.get<Node>(std::string("c"));
  auto fresh = s.add(Node{.code = "n", .parent_code = "a", .name = "N"});
  a->code = "a2";
  b->code = "b2";
  b->name = "B2";
  s.commit();
  EXPECT_EQ(b->parent_code, "a2");
  EXPECT_EQ(c->parent_code, "b2");
  EXPECT_EQ(fresh->parent_code, "a2");
  for (const auto& node : {a, b, c, fresh}) EXPECT_FALSE(s.is_modified(node)) << node->code;
  s.expunge_all();
  EXPECT_EQ(s.query<Node>().filter(col(&Node::parent_code) == "a2").count(), 2);
  EXPECT_EQ(s.query<Node>().filter(col(&Node::parent_code) == "b2").count(), 1);
}

TEST_P(Guilds, without_foreign_keys_enforced_the_objects_keep_what_their_rows_keep) {
  // SQLite with its foreign_keys switch off carries nothing into the rows that refer to a
  // changed key; PostgreSQL always does. Either way the objects agree with their rows.
  reopen([](strata::DatabaseOptions& o) { o.engine.connect.foreign_keys = false; });
  db().register_models<Guild, Hero, Banner, Hall, Room, Node, Clan, Flag>();
  db().create_all();
  auto& s = session();
  s.add(Guild{.code = "red"});
  s.add(Hall{.guild_code = "red", .name = "Red Hall"});
  s.commit();
  s.expunge_all();
  auto hall = s.get<Hall>(std::string("red"));
  s.get<Guild>(std::string("red"))->code = "crimson";
  s.commit();
  hall->name = "Renamed";
  EXPECT_NO_THROW(s.commit());  // its UPDATE matches its row by the key the row has
  const std::string key = hall->guild_code;
  s.expunge_all();
  auto stored = s.get<Hall>(key);
  ASSERT_TRUE(stored) << key;
  EXPECT_EQ(stored->name, "Renamed");
}

}  // namespace
