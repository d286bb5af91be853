// The Flask Mega-Tutorial's microblog models as they evolve, one version per build:
// MICROBLOG_VERSION 1..6 selects which (see CMakeLists.txt). All versions share one
// migrations folder, as a real project's history does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "strata/strata.hpp"

#ifndef MICROBLOG_VERSION
#error "define MICROBLOG_VERSION (1..6)"
#endif

struct Post;

#if MICROBLOG_VERSION >= 4
// v4: who follows whom, a table without a struct (the Mega-Tutorial's followers).
inline const strata::AssociationTable followers{
    "followers", {"follower_id", "user.id"}, {"followed_id", "user.id"}};
#endif

struct User {
  std::int64_t id = 0;
  std::string username{};
  std::string email{};
#if MICROBLOG_VERSION >= 5
  std::string password_hash{};  // v5: NOT NULL
#else
  std::optional<std::string> password_hash{};
#endif
#if MICROBLOG_VERSION >= 5
  std::optional<std::string> bio{};  // v5: about_me renamed to bio
#elif MICROBLOG_VERSION >= 3
  std::optional<std::string> about_me{};
  std::optional<strata::DateTime> last_seen{};
#endif
#if MICROBLOG_VERSION >= 6
  bool is_admin = false;
#endif
#if MICROBLOG_VERSION >= 2
  strata::HasMany<Post> posts{};
#endif
#if MICROBLOG_VERSION >= 4
  strata::HasMany<User> followed{};   // the users this one follows
  strata::HasMany<User> followers{};  // the users who follow this one
#endif
};

#if MICROBLOG_VERSION >= 2
struct Post {
  std::int64_t id = 0;
  std::string body{};
  strata::DateTime timestamp = strata::utc_now();
  std::int64_t user_id = 0;
  strata::BelongsTo<User> author{};
};
#endif

template <>
struct strata::Model<User> {
  static constexpr auto table = "user";
  static constexpr auto name = "User";
  static auto columns() {
    return mapping(column("id", &User::id).primary_key(),
                   column("username", &User::username).length(64).unique().index(),
                   column("email", &User::email).length(120).unique().index(),
                   column("password_hash", &User::password_hash).length(256)
#if MICROBLOG_VERSION >= 5
                   , column("bio", &User::bio).length(140)
#elif MICROBLOG_VERSION >= 3
                   , column("about_me", &User::about_me).length(140),
                   column("last_seen", &User::last_seen)
#endif
#if MICROBLOG_VERSION >= 6
                   , column("is_admin", &User::is_admin).server_default("false")
#endif
#if MICROBLOG_VERSION >= 2
                   , has_many("posts", &User::posts).back_populates(&Post::author)
#endif
#if MICROBLOG_VERSION >= 4
                   , has_many("followed", &User::followed)
                         .secondary(followers, "follower_id", "followed_id")
                         .back_populates(&User::followers),
                   has_many("followers", &User::followers)
                         .secondary(followers, "followed_id", "follower_id")
                         .back_populates(&User::followed)
#endif
    );
  }
};

#if MICROBLOG_VERSION >= 2
template <>
struct strata::Model<Post> {
  static constexpr auto table = "post";
  static constexpr auto name = "Post";
  static auto columns() {
    return mapping(column("id", &Post::id).primary_key(),
#if MICROBLOG_VERSION >= 5
                   column("body", &Post::body).length(280),
#else
                   column("body", &Post::body).length(140),
#endif
                   column("timestamp", &Post::timestamp).index(),
                   column("user_id", &Post::user_id).references(&User::id).index(),
                   belongs_to("author", &Post::author, &Post::user_id).back_populates(&User::posts)
#if MICROBLOG_VERSION >= 5
                   , unique(&Post::user_id, &Post::timestamp)
#endif
#if MICROBLOG_VERSION >= 6
                   , check("body_not_empty", "length(body) > 0")
#endif
    );
  }
};
#endif

// Registers this version's models and tables with db.
inline void register_microblog(strata::Database& db) {
  db.register_models<User>();
#if MICROBLOG_VERSION >= 2
  db.register_models<Post>();
#endif
  // From v4, registering User brings its association table, followers.
}
