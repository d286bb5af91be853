// The seed session of the Flask Mega-Tutorial ("play with the database"), in C++ with strata.
// Usage: quickstart [DATABASE_URL]   (default: $DATABASE_URL, else sqlite:///app.db)
// Each step prints the Python line it mirrors, then what the Python session would print.
#include <iostream>
#include <memory>
#include <vector>

#include "models.hpp"
#include "strata/strata.hpp"

namespace {

// [<User john>, <User susan>]
template <class T>
std::ostream& operator<<(std::ostream& os, const std::vector<std::shared_ptr<T>>& items) {
  os << '[';
  for (std::size_t i = 0; i < items.size(); ++i) os << (i ? ", " : "") << *items[i];
  return os << ']';
}
template <class T>
std::ostream& operator<<(std::ostream& os, const strata::HasMany<T>& items) {
  return os << items.all();
}

void step(const char* python) { std::cout << ">>> " << python << '\n'; }

void run(strata::Database& db) {
  using strata::col;
  auto& s = db.session();

  step("u = User(username='john', email='john@example.com'); db.session.add(u); db.session.commit()");
  s.add(User{.username = "john", .email = "john@example.com"});
  s.commit();
  step("u = User(username='susan', email='susan@example.com'); db.session.add(u); db.session.commit()");
  s.add(User{.username = "susan", .email = "susan@example.com"});
  s.commit();

  step("users = db.session.scalars(sa.select(User)).all(); users");
  auto users = s.query<User>().all();
  std::cout << users << '\n';
  step("for u in users: print(u.id, u.username)");
  for (const auto& u : users) std::cout << u->id << ' ' << u->username << '\n';

  step("u = db.session.get(User, 1); u");
  auto john = s.get<User>(1);
  std::cout << *john << '\n';
  step("u is users[0]  # the identity map: one object per row");
  std::cout << (john == users[0] ? "True" : "False") << '\n';

  step("p = Post(body='my first post!', author=u); db.session.add(p); db.session.commit()");
  auto post = s.add(Post{.body = "my first post!", .author = john});
  s.commit();
  step("p.user_id  # filled from the author at flush");
  std::cout << post->user_id << '\n';

  step("u = db.session.get(User, 1); db.session.scalars(u.posts.select()).all()");
  std::cout << s.get<User>(1)->posts << '\n';
  step("u = db.session.get(User, 2); db.session.scalars(u.posts.select()).all()");
  std::cout << s.get<User>(2)->posts << '\n';

  step("for p in db.session.scalars(sa.select(Post)): print(p.id, p.author.username, p.body)");
  for (const auto& p : s.query<Post>().all())
    std::cout << p->id << ' ' << p->author->username << ' ' << p->body << '\n';

  step("db.session.scalars(sa.select(User).order_by(User.username.desc())).all()");
  std::cout << s.query<User>().order_by(strata::desc(&User::username)).all() << '\n';
  step("db.session.scalars(sa.select(User).where(User.username.like('s%'))).all()");
  std::cout << s.query<User>().filter(col(&User::username).like("s%")).all() << '\n';

  step("db.session.delete(john); db.session.commit()  # john still has a post");
  try {
    s.delete_(john);
    s.commit();
  } catch (const strata::IntegrityError& e) {
    std::cout << "IntegrityError: " << e.what() << '\n';
    step("db.session.rollback()");
    s.rollback();
  }
  step("db.session.get(User, 1)  # still there, the session works again");
  std::cout << *s.get<User>(1) << '\n';

  step("for p in posts: db.session.delete(p); for u in users: db.session.delete(u); db.session.commit()");
  for (const auto& p : s.query<Post>().all()) s.delete_(p);
  for (const auto& u : s.query<User>().all()) s.delete_(u);
  s.commit();
  std::cout << s.query<User>().all() << ' ' << s.query<Post>().all() << '\n';

  step("again: john, susan and a post, committed");
  auto u1 = s.add(User{.username = "john", .email = "john@example.com"});
  s.add(User{.username = "susan", .email = "susan@example.com"});
  s.add(Post{.body = "my second post", .author = u1});
  s.commit();
  std::cout << s.query<User>().count() << " users, " << s.query<Post>().count() << " post\n";

  step("db.session.execute(sa.delete(Post)); db.session.execute(sa.delete(User)); db.session.commit()");
  auto posts_deleted = s.query<Post>().delete_();
  auto users_deleted = s.query<User>().delete_();
  s.commit();
  std::cout << posts_deleted << " post and " << users_deleted << " users deleted, one statement each\n";

  step("u = User(username='david', email='david@example.com'); db.session.add(u)");
  auto david = s.add(User{.username = "david", .email = "david@example.com"});
  step("db.session.scalar(sa.select(sa.func.count(User.id)))  # autoflush: the pending add is seen");
  std::cout << s.query<User>().count() << '\n';
  step("db.session.rollback(); db.session.scalar(sa.select(sa.func.count(User.id)))");
  s.rollback();
  std::cout << s.query<User>().count() << '\n';
  step("u in db.session");
  std::cout << (s.contains(david) ? "True" : "False") << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  try {
    strata::Database db{argc > 1 ? argv[1] : strata::env("DATABASE_URL", "sqlite:///app.db")};
    db.register_models<User, Post>();
    db.drop_all();  // the seed starts from an empty database
    db.create_all();
    run(db);
    return 0;
  } catch (const strata::Error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}
