// Url::parse, to_string and backend: the forms users write in DATABASE_URL, and the one-line
// errors (never showing the password) for the forms they get wrong.
#include "strata/engine/url.hpp"

#include <string>

#include <gtest/gtest.h>

#include "strata/error.hpp"

using strata::ArgumentError;
using strata::engine::Url;

namespace {

// The message of the ArgumentError parse(text) throws; fails the test when it throws nothing.
std::string parse_error(const std::string& text) {
  try {
    Url::parse(text);
  } catch (const ArgumentError& e) {
    return e.what();
  }
  ADD_FAILURE() << "parse accepted the bad URL " << text;
  return {};
}

}  // namespace

TEST(UrlParse, sqlite_three_slashes_is_a_relative_path) {
  const Url u = Url::parse("sqlite:///relative/path.db");
  EXPECT_EQ(u.drivername, "sqlite");
  EXPECT_EQ(u.database, "relative/path.db");
  EXPECT_TRUE(u.host.empty());
  EXPECT_FALSE(u.is_memory());
}

TEST(UrlParse, sqlite_four_slashes_is_an_absolute_path) {
  EXPECT_EQ(Url::parse("sqlite:////absolute/path.db").database, "/absolute/path.db");
}

TEST(UrlParse, sqlite_without_path_or_with_memory_name_is_in_memory) {
  EXPECT_TRUE(Url::parse("sqlite://").is_memory());
  const Url u = Url::parse("sqlite:///:memory:");
  EXPECT_EQ(u.database, ":memory:");
  EXPECT_TRUE(u.is_memory());
}

TEST(UrlParse, postgresql_url_has_every_part_percent_decoded) {
  const Url u = Url::parse("postgresql://user:pa%40ss@host:5432/db?host=/sock&sslmode=disable");
  EXPECT_EQ(u.drivername, "postgresql");
  EXPECT_EQ(u.username, "user");
  EXPECT_EQ(u.password, "pa@ss") << "%40 in the password must decode to '@'";
  EXPECT_EQ(u.host, "host");
  ASSERT_TRUE(u.port.has_value());
  EXPECT_EQ(*u.port, 5432);
  EXPECT_EQ(u.database, "db");
  EXPECT_EQ(u.query.at("host"), "/sock");
  EXPECT_EQ(u.query.at("sslmode"), "disable");
}

TEST(UrlParse, percent_escapes_in_query_values_are_decoded) {
  const Url u = Url::parse("postgresql://h/db?application_name=my%20app");
  EXPECT_EQ(u.query.at("application_name"), "my app");
}

TEST(UrlParse, ipv6_host_is_given_without_brackets) {
  const Url u = Url::parse("postgresql://user@[::1]:5433/db");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.username, "user");
  EXPECT_TRUE(u.password.empty());
  EXPECT_EQ(u.port, 5433);
  EXPECT_EQ(u.database, "db");
  EXPECT_EQ(Url::parse("postgresql://[::1]/db").host, "::1");
}

TEST(UrlParse, password_may_hold_a_slash) {
  const Url u = Url::parse("postgresql://u:a/b@host/db");
  EXPECT_EQ(u.password, "a/b");
  EXPECT_EQ(u.host, "host");
  EXPECT_EQ(u.database, "db");
}

TEST(UrlParse, an_at_sign_in_the_query_is_the_querys_with_a_port_or_an_ipv6_host) {
  // It was taken for the end of a user info: user "localhost", password "5432/app?...".
  const Url u = Url::parse("postgresql://localhost:5432/app?application_name=me@host");
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 5432);
  EXPECT_EQ(u.database, "app");
  EXPECT_TRUE(u.username.empty());
  EXPECT_EQ(u.query.at("application_name"), "me@host");
  const Url v = Url::parse("postgresql://[::1]/db?user=name@server");
  EXPECT_EQ(v.host, "::1");
  EXPECT_EQ(v.database, "db");
  EXPECT_EQ(v.query.at("user"), "name@server");
  // A password holding '/' or '?' (not both before its '@') still parses.
  EXPECT_EQ(Url::parse("postgresql://u:a?b@host:5432/db?x=1").password, "a?b");
  EXPECT_EQ(Url::parse("postgresql://u:a/b@host/db?x=a@b").password, "a/b");
}

TEST(UrlParse, backend_strips_the_driver_name) {
  EXPECT_EQ(Url::parse("postgresql+libpq://h/db").backend(), "postgresql");
  EXPECT_EQ(Url::parse("postgresql+libpq://h/db").drivername, "postgresql+libpq");
  EXPECT_EQ(Url::parse("sqlite://").backend(), "sqlite");
}

TEST(UrlToString, masks_the_password_unless_asked) {
  const Url u = Url::parse("postgresql://user:secret@host:5432/db");
  EXPECT_EQ(u.to_string(), "postgresql://user:***@host:5432/db");
  EXPECT_EQ(u.to_string(true), "postgresql://user:secret@host:5432/db");
}

TEST(UrlToString, round_trips_sqlite_and_encoded_parts) {
  for (const char* text :
       {"sqlite://", "sqlite:///app.db", "sqlite:////var/app.db",
        "sqlite:///:memory:", "postgresql://u:p%40ss@[::1]:5432/db?host=/sock"}) {
    EXPECT_EQ(Url::parse(text).to_string(true), text) << "to_string does not give back " << text;
  }
}

TEST(UrlParseErrors, missing_scheme_separator_names_the_expected_form) {
  const std::string msg = parse_error("app.db");
  EXPECT_NE(msg.find("'://'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected"), std::string::npos) << msg;
}

TEST(UrlParseErrors, sqlite_with_one_slash_shows_the_sqlite_forms) {
  const std::string msg = parse_error("sqlite:/x.db");
  EXPECT_NE(msg.find("sqlite:/x.db"), std::string::npos) << "message should quote the URL: " << msg;
  EXPECT_NE(msg.find("sqlite:///"), std::string::npos) << msg;
}

TEST(UrlParseErrors, sqlite_with_a_host_says_to_use_three_slashes) {
  const std::string msg = parse_error("sqlite://host/x.db");
  EXPECT_NE(msg.find("sqlite takes no host"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sqlite:///path"), std::string::npos) << msg;
}

TEST(UrlParseErrors, empty_scheme_is_rejected) {
  EXPECT_NE(parse_error("://host/db").find("empty dialect name"), std::string::npos);
}

TEST(UrlParseErrors, bad_port_is_named_and_password_is_never_shown) {
  const std::string msg = parse_error("postgresql://user:hunter2@host:54x2/db");
  EXPECT_NE(msg.find("port"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << "the password leaked into: " << msg;
  EXPECT_NE(msg.find("user:***@host"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "message must be one line: " << msg;
}

TEST(UrlParseErrors, out_of_range_ports_are_rejected) {
  EXPECT_NE(parse_error("postgresql://h:65536/db").find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("postgresql://h:0/db").find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("postgresql://h:99999999999999/db").find("out of range"),
            std::string::npos);
  EXPECT_NE(parse_error("postgresql://h:/db").find("missing port"), std::string::npos);
}

TEST(UrlParseErrors, malformed_percent_escape_in_password_does_not_show_it) {
  const std::string msg = parse_error("postgresql://u:abc%zz@h/db");
  EXPECT_NE(msg.find("password"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("abc"), std::string::npos) << "the password leaked into: " << msg;
}

TEST(UrlParseErrors, unescaped_at_in_password_is_masked_in_full) {
  const std::string msg = parse_error("postgresql://u:p@ss@h:x/db");
  EXPECT_EQ(msg.find("p@ss"), std::string::npos) << "the password leaked into: " << msg;
  EXPECT_NE(msg.find("u:***@h:x/db"), std::string::npos)
      << "everything up to the last '@' of the host part should be masked: " << msg;
}

TEST(UrlParseErrors, a_password_given_as_a_query_parameter_is_masked_too) {
  // libpq takes password= and sslpassword= from the query; both are secrets.
  const auto u = strata::engine::Url::parse(
      "postgresql:///db?host=/tmp/s&password=hunter2&sslpassword=swordfish&user=u");
  EXPECT_EQ(u.to_string(),
            "postgresql:///db?host=/tmp/s&password=***&sslpassword=***&user=u");
  EXPECT_NE(u.to_string(true).find("password=hunter2"), std::string::npos);
  const std::string msg = parse_error("postgresql://h:x/db?password=hunter2&user=u");
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << "the password leaked into: " << msg;
  EXPECT_NE(msg.find("?password=***&user=u"), std::string::npos) << msg;
  // The key percent-encoded, as libpq would still read it.
  const std::string encoded = parse_error("postgresql://h:x/db?pass%77ord=hunter2&user=u");
  EXPECT_EQ(encoded.find("hunter2"), std::string::npos) << "the password leaked into: " << encoded;
  EXPECT_EQ(strata::engine::Url::parse("postgresql:///db?pass%77ord=hunter2").to_string(),
            "postgresql:///db?password=***");
}
