// microblog_vN: the microblog app at version N. `microblog_vN db ...` runs the migration
// commands with this version's models; `microblog_vN seed NAME` adds a user (and from v2 a
// post); `microblog_vN dump` prints the rows this version knows about.
#include <iostream>
#include <string>

#include "models.hpp"
#include "strata/cli/db_command.hpp"

namespace {

int seed(strata::Session& s, const std::string& name) {
  User u{.username = name, .email = name + "@example.com"};
#if MICROBLOG_VERSION >= 5
  u.password_hash = "hash-of-" + name;
  u.bio = "I am " + name;
#else
  u.password_hash = "hash-of-" + name;
#endif
#if MICROBLOG_VERSION >= 3 && MICROBLOG_VERSION < 5
  u.about_me = "I am " + name;
#endif
  auto user = s.add(std::move(u));
#if MICROBLOG_VERSION >= 2
  s.add(Post{.body = "hello from " + name, .author = user});
#endif
  s.commit();
  std::cout << "added " << name << "\n";
  return 0;
}

int dump(strata::Session& s) {
  for (const auto& u : s.query<User>().order_by(&User::id).all()) {
    std::cout << "user " << u->id << " " << u->username << " " << u->email;
#if MICROBLOG_VERSION >= 5
    std::cout << " bio=" << u->bio.value_or("-");
#elif MICROBLOG_VERSION >= 3
    std::cout << " about_me=" << u->about_me.value_or("-");
#endif
#if MICROBLOG_VERSION >= 6
    std::cout << " is_admin=" << (u->is_admin ? "true" : "false");
#endif
    std::cout << "\n";
#if MICROBLOG_VERSION >= 2
    for (const auto& p : u->posts) std::cout << "  post " << p->id << " " << p->body << "\n";
#endif
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    strata::Database db{strata::env("DATABASE_URL", "sqlite:///microblog.db")};
    register_microblog(db);
    if (auto rc = strata::cli::dispatch_db(argc, argv, db)) return *rc;
    std::string command = argc > 1 ? argv[1] : "";
    if (command == "seed" && argc > 2) return seed(db.session(), argv[2]);
    if (command == "dump") return dump(db.session());
    std::cerr << "usage: " << argv[0] << " db COMMAND ... | seed NAME | dump\n";
    return 2;
  } catch (const strata::Error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}
