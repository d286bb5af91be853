// The Flask Mega-Tutorial's first models, mapped with strata: users and their posts.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "strata/strata.hpp"

struct Post;

struct User {
  std::int64_t id = 0;
  std::string username;
  std::string email;
  std::optional<std::string> password_hash{};
  strata::HasMany<Post> posts{};
};

struct Post {
  std::int64_t id = 0;
  std::string body;
  strata::DateTime timestamp = strata::utc_now();
  std::int64_t user_id = 0;
  strata::BelongsTo<User> author{};
};

template <>
struct strata::Model<User> {
  static constexpr auto table = "user";
  static constexpr auto name = "User";
  static auto columns() {
    return mapping(column("id", &User::id).primary_key(),
                   column("username", &User::username).length(64).unique().index(),
                   column("email", &User::email).length(120).unique().index(),
                   column("password_hash", &User::password_hash).length(256),
                   has_many("posts", &User::posts).back_populates(&Post::author));
  }
};

template <>
struct strata::Model<Post> {
  static constexpr auto table = "post";
  static constexpr auto name = "Post";
  static auto columns() {
    return mapping(column("id", &Post::id).primary_key(),
                   column("body", &Post::body).length(140),
                   column("timestamp", &Post::timestamp).index(),
                   column("user_id", &Post::user_id).references(&User::id).index(),
                   belongs_to("author", &Post::author, &Post::user_id).back_populates(&User::posts));
  }
};

// How the Python session shows them: <User john>, <Post my first post!>.
inline std::ostream& operator<<(std::ostream& os, const User& u) {
  return os << "<User " << u.username << ">";
}
inline std::ostream& operator<<(std::ostream& os, const Post& p) {
  return os << "<Post " << p.body << ">";
}
