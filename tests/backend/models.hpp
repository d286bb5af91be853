// The models of the backend suite: users with posts and addresses (the Mega-Tutorial's
// tables, `user` being a keyword on PostgreSQL), a row holding every built-in type, tasks
// with C++ and server defaults, and a model over a loosely typed table that tests fill with
// raw SQL. backend.cpp registers them all with every test's Database.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "strata/strata.hpp"

#include "models_query.hpp"
#include "models_events.hpp"
#include "models_relations.hpp"

// Stored by number.
enum class Role : std::int16_t { reader = 0, writer = 1, admin = 2 };

// Stored by name, through EnumLabels.
enum class Mood { calm, happy, grumpy };

template <>
struct strata::EnumLabels<Mood> {
  static constexpr std::array values{std::pair{Mood::calm, std::string_view{"calm"}},
                                     std::pair{Mood::happy, std::string_view{"happy"}},
                                     std::pair{Mood::grumpy, std::string_view{"grumpy"}}};
};

// A user-defined type: an amount of money stored as a whole number of cents.
struct Money {
  std::int64_t cents = 0;
  friend bool operator==(const Money&, const Money&) = default;
};

template <>
struct strata::Type<Money> : strata::Convert<Money, std::int64_t> {
  static std::int64_t to_db(const Money& m) { return m.cents; }
  static Money from_db(std::int64_t cents) { return Money{cents}; }
};

// A user-defined type stored as text: a snapshot keeps its text (to_db's result, copied).
struct Label {
  std::string text;
  friend bool operator==(const Label&, const Label&) = default;
};

template <>
struct strata::Type<Label> : strata::Convert<Label, std::string> {
  static std::string to_db(const Label& l) { return l.text; }
  static Label from_db(std::string text) { return Label{std::move(text)}; }
};

struct Post;
struct Address;

struct User {
  std::int64_t id = 0;
  std::string username{};
  std::string email{};
  std::optional<std::string> bio{};
  Role role = Role::reader;
  bool active = true;
  strata::HasMany<Post> posts{};
  strata::HasMany<Address> addresses{};
};

struct Post {
  std::int64_t id = 0;
  std::string title{};
  std::optional<std::string> body{};
  std::int32_t votes = 0;
  double rating = 0;
  std::int64_t user_id = 0;
  strata::BelongsTo<User> author{};
};

// A nullable foreign key: removing an address from user->addresses sets user_id NULL.
struct Address {
  std::int64_t id = 0;
  std::string street{};
  std::optional<std::int64_t> user_id{};
  strata::BelongsTo<User> user{};
};

template <>
struct strata::Model<User> {
  static constexpr auto table = "user";
  static constexpr auto name = "User";
  static auto columns() {
    return mapping(column("id", &User::id).primary_key(),
                   column("username", &User::username).length(64).unique().index(),
                   column("email", &User::email).length(120).unique(),
                   column("bio", &User::bio).text(), column("role", &User::role),
                   column("active", &User::active),
                   has_many("posts", &User::posts).back_populates(&Post::author),
                   has_many("addresses", &User::addresses).back_populates(&Address::user));
  }
};

template <>
struct strata::Model<Post> {
  static constexpr auto table = "post";
  static constexpr auto name = "Post";
  static auto columns() {
    return mapping(column("id", &Post::id).primary_key(), column("title", &Post::title).length(100),
                   column("body", &Post::body).text(), column("votes", &Post::votes),
                   column("rating", &Post::rating),
                   column("user_id", &Post::user_id).references(&User::id).index(),
                   belongs_to("author", &Post::author, &Post::user_id).back_populates(&User::posts),
                   check("votes_not_negative", "votes >= 0"));
  }
};

template <>
struct strata::Model<Address> {
  static constexpr auto table = "address";
  static constexpr auto name = "Address";
  static auto columns() {
    return mapping(
        column("id", &Address::id).primary_key(), column("street", &Address::street),
        column("user_id", &Address::user_id).references(&User::id),
        belongs_to("user", &Address::user, &Address::user_id).back_populates(&User::addresses));
  }
};

// Every built-in type, plain and optional.
struct Sample {
  std::int64_t id = 0;
  std::int16_t i16 = 0;
  std::int32_t i32 = 0;
  std::int64_t i64 = 0;
  double real = 0;
  float real32 = 0;
  bool flag = false;
  std::string name{};
  std::string text{};
  strata::Blob data{};
  strata::Date day = std::chrono::year{2000} / 1 / 1;
  strata::Time at{};
  strata::DateTime stamp{};
  Role role = Role::reader;
  Mood mood = Mood::calm;
  Money price{};
  Label label{};

  std::optional<std::int16_t> opt_i16{};
  std::optional<std::int32_t> opt_i32{};
  std::optional<std::int64_t> opt_i64{};
  std::optional<double> opt_real{};
  std::optional<float> opt_real32{};
  std::optional<bool> opt_flag{};
  std::optional<std::string> opt_name{};
  std::optional<std::string> opt_text{};
  std::optional<strata::Blob> opt_data{};
  std::optional<strata::Date> opt_day{};
  std::optional<strata::Time> opt_at{};
  std::optional<strata::DateTime> opt_stamp{};
  std::optional<Role> opt_role{};
  std::optional<Mood> opt_mood{};
  std::optional<Money> opt_price{};
};

template <>
struct strata::Model<Sample> {
  static constexpr auto table = "sample";
  static constexpr auto name = "Sample";
  static auto columns() {
    return mapping(
        column("id", &Sample::id).primary_key(), column("i16", &Sample::i16),
        column("i32", &Sample::i32), column("i64", &Sample::i64), column("real", &Sample::real),
        column("real32", &Sample::real32), column("flag", &Sample::flag),
        column("name", &Sample::name).length(40), column("text", &Sample::text).text(),
        column("data", &Sample::data), column("day", &Sample::day), column("at", &Sample::at),
        column("stamp", &Sample::stamp), column("role", &Sample::role),
        column("mood", &Sample::mood), column("price", &Sample::price),
        column("label", &Sample::label),
        column("opt_i16", &Sample::opt_i16), column("opt_i32", &Sample::opt_i32),
        column("opt_i64", &Sample::opt_i64), column("opt_real", &Sample::opt_real),
        column("opt_real32", &Sample::opt_real32), column("opt_flag", &Sample::opt_flag),
        column("opt_name", &Sample::opt_name).length(40),
        column("opt_text", &Sample::opt_text).text(), column("opt_data", &Sample::opt_data),
        column("opt_day", &Sample::opt_day), column("opt_at", &Sample::opt_at),
        column("opt_stamp", &Sample::opt_stamp), column("opt_role", &Sample::opt_role),
        column("opt_mood", &Sample::opt_mood), column("opt_price", &Sample::opt_price));
  }
};

// Defaults: status from the database, priority and note from C++.
struct Task {
  std::int64_t id = 0;
  std::string title{};
  std::optional<std::string> status{};
  std::optional<std::int32_t> priority{};
  std::optional<std::string> note{};
};

template <>
struct strata::Model<Task> {
  static constexpr auto table = "task";
  static constexpr auto name = "Task";
  static auto columns() {
    return mapping(column("id", &Task::id).primary_key(), column("title", &Task::title),
                   column("status", &Task::status).length(20).server_default("'new'"),
                   column("priority", &Task::priority).default_(3),
                   column("note", &Task::note).default_([] { return std::string("none"); }));
  }
};

// Models mapped strictly over tables that tests create by hand with loose columns (see
// create_loose_tables() in backend.hpp), so that raw SQL can store what the model cannot load.
// They are not registered: create_all() leaves those tables alone.
struct StrictName {  // table loose_name (id, name TEXT NULL)
  std::int64_t id = 0;
  std::string name{};
};
struct StrictAmount {  // table loose_amount (id, amount TEXT)
  std::int64_t id = 0;
  std::int64_t amount = 0;
};
struct StrictSmall {  // table loose_small (id, small BIGINT)
  std::int64_t id = 0;
  std::int32_t small = 0;
};

template <>
struct strata::Model<StrictName> {
  static constexpr auto table = "loose_name";
  static auto columns() {
    return mapping(column("id", &StrictName::id).primary_key(), column("name", &StrictName::name));
  }
};
template <>
struct strata::Model<StrictAmount> {
  static constexpr auto table = "loose_amount";
  static auto columns() {
    return mapping(column("id", &StrictAmount::id).primary_key(),
                   column("amount", &StrictAmount::amount));
  }
};
template <>
struct strata::Model<StrictSmall> {
  static constexpr auto table = "loose_small";
  static auto columns() {
    return mapping(column("id", &StrictSmall::id).primary_key(),
                   column("small", &StrictSmall::small));
  }
};

#include "models_loading.hpp"  // Shelf, Book, Note: loading strategies
