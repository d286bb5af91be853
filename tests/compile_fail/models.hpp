// Two small models shared by the compile-fail cases; each case adds exactly one mistake.
#pragma once

#include <cstdint>
#include <string>

#include "strata/strata.hpp"

struct Post;
struct User {
  std::int64_t id = 0;
  std::string username{};
  std::string email{};
};
struct Post {
  std::int64_t id = 0;
  std::string body{};
  std::int64_t user_id = 0;
};
template <>
struct strata::Model<User> {
  static constexpr auto table = "user";
  static auto columns() {
    return mapping(column("id", &User::id).primary_key(), column("username", &User::username),
                   column("email", &User::email));
  }
};
template <>
struct strata::Model<Post> {
  static constexpr auto table = "post";
  static auto columns() {
    return mapping(column("id", &Post::id).primary_key(), column("body", &Post::body),
                   column("user_id", &Post::user_id).references(&User::id));
  }
};
