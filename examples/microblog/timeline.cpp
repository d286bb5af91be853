// microblog_timeline: the Mega-Tutorial's followers, on the microblog's latest models.
//
//   microblog_timeline [URL] [USERNAME]
//
// Makes the tables when they are missing, seeds four users with posts on a first run, lets
// them follow one another (follow() is a no-op for a user already followed, so a second run
// prints the same), and prints each user's followers and timeline — the posts of the users
// they follow and their own, newest first — or only USERNAME's. The timeline is one query: a
// LEFT OUTER JOIN of post with the association table.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "models.hpp"

namespace {

using strata::col;

// The Mega-Tutorial's User methods, written with the ORM.
void follow(User& self, const std::shared_ptr<User>& other) { self.followed.append(other); }
void unfollow(User& self, const std::shared_ptr<User>& other) { self.followed.remove(other); }
bool is_following(const User& self, const User& other) {
  for (const auto& u : self.followed)
    if (u->id == other.id) return true;
  return false;
}

// Posts of the users `user` follows, and `user`'s own, newest first: one SELECT, with the
// authors loaded in the same statement.
std::vector<std::shared_ptr<Post>> timeline(strata::Session& s, const User& user) {
  strata::TableRef links(followers.name);
  auto follower_id = links.column<std::int64_t>("follower_id");
  auto followed_id = links.column<std::int64_t>("followed_id");
  return s.query<Post>()
      .outerjoin(links, followed_id == col(&Post::user_id) && follower_id == user.id)
      .filter(follower_id == user.id || col(&Post::user_id) == user.id)
      .options(strata::joinedload(&Post::author))
      .order_by(strata::desc(&Post::timestamp))
      .all();
}

strata::DateTime at(const char* text) { return *strata::parse_datetime(text); }

void seed(strata::Session& s) {
  struct Seed {
    const char* name;
    std::vector<std::pair<const char*, const char*>> posts;  // (timestamp, body)
  };
  const std::vector<Seed> seeds{
      {"john", {{"2026-01-01 09:00:00", "Beautiful day in Portland!"},
                {"2026-01-03 18:30:00", "Reading the SQLAlchemy docs again"}}},
      {"susan", {{"2026-01-02 12:00:00", "The Avengers movie was so cool!"}}},
      {"mary", {{"2026-01-04 08:15:00", "Coffee first"}, {"2026-01-05 21:45:00", "Good night"}}},
      {"david", {{"2026-01-06 07:00:00", "Up early"}}},
  };
  for (const auto& seed : seeds) {
    User u{.username = seed.name, .email = std::string(seed.name) + "@example.com",
           .password_hash = "hash-of-" + std::string(seed.name)};
    auto user = s.add(std::move(u));
    for (const auto& [when, body] : seed.posts)
      s.add(Post{.body = body, .timestamp = at(when), .author = user});
  }
  s.commit();
}

std::string names(const strata::HasMany<User>& users) {
  std::vector<std::string> sorted;
  for (const auto& u : users) sorted.push_back(u->username);
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const auto& n : sorted) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "nobody" : out;
}

void print(strata::Session& s, const User& user) {
  std::cout << user.username << " follows " << names(user.followed) << "; followed by "
            << names(user.followers) << " (" << user.followed.size() << " following, "
            << user.followers.size() << " followers)\n";
  for (const auto& post : timeline(s, user))
    std::cout << "  " << strata::to_iso(post->timestamp).substr(0, 16) << "  "
              << post->author->username << ": " << post->body << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string url = argc > 1 ? argv[1] : strata::env("DATABASE_URL", "sqlite:///microblog.db");
    strata::Database db{url};
    register_microblog(db);
    db.create_all();
    auto& s = db.session();
    if (s.query<User>().count() == 0) seed(s);

    auto by_name = [&](const char* name) {
      return s.query<User>().filter_by(&User::username, std::string(name)).one();
    };
    auto john = by_name("john"), susan = by_name("susan"), mary = by_name("mary"),
         david = by_name("david");
    follow(*john, susan);
    follow(*john, mary);
    follow(*john, david);
    unfollow(*john, david);  // changed his mind: no row for it reaches the database
    follow(*susan, mary);
    follow(*mary, john);
    s.commit();

    std::cout << "john follows susan: " << (is_following(*john, *susan) ? "yes" : "no")
              << "; susan follows john: " << (is_following(*susan, *john) ? "yes" : "no")
              << "\n";
    if (argc > 2) {
      auto user = s.query<User>().filter_by(&User::username, std::string(argv[2])).one_or_none();
      if (!user) {
        std::cerr << "error: no user named '" << argv[2] << "'\n";
        return 1;
      }
      print(s, *user);
    } else {
      for (const auto& user : s.query<User>().order_by(&User::username).all()) print(s, *user);
    }
    return 0;
  } catch (const strata::Error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}
