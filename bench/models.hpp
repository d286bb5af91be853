// The benchmark's models: the Mega-Tutorial's `user` and `post`. Both sides of the benchmark
// fill these same structs; only the strata side goes through the mapping below.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "strata/strata.hpp"

namespace bench {

struct Post;

struct User {
  std::int64_t id = 0;
  std::string username{};
  std::string email{};
  std::optional<std::string> about_me{};
  strata::HasMany<Post> posts{};
};

struct Post {
  std::int64_t id = 0;
  std::string body{};
  strata::DateTime timestamp{};
  std::int64_t user_id = 0;
  strata::BelongsTo<User> author{};
};

}  // namespace bench

template <>
struct strata::Model<bench::User> {
  static constexpr auto table = "user";
  static constexpr auto name = "User";
  static auto columns() {
    using bench::User;
    return mapping(column("id", &User::id).primary_key(),
                   column("username", &User::username).length(64).unique(),
                   column("email", &User::email).length(120).unique(),
                   column("about_me", &User::about_me).text(),
                   has_many("posts", &User::posts).back_populates(&bench::Post::author));
  }
};

template <>
struct strata::Model<bench::Post> {
  static constexpr auto table = "post";
  static constexpr auto name = "Post";
  static auto columns() {
    using bench::Post;
    return mapping(column("id", &Post::id).primary_key(),
                   column("body", &Post::body).length(140),
                   column("timestamp", &Post::timestamp).index(),
                   column("user_id", &Post::user_id).references(&bench::User::id).index(),
                   belongs_to("author", &Post::author, &Post::user_id)
                       .back_populates(&bench::User::posts));
  }
};
