// strata::Database: the Flask-SQLAlchemy `db` object. It holds the engine for a URL, the
// dialect, the metadata of the registered models and tables, and the app's default session.
//
//   strata::Database db{strata::env("DATABASE_URL", "sqlite:///app.db")};
//   db.register_models<User, Post>();
//   db.create_all();
//   auto& s = db.session();
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "strata/dialect/dialect.hpp"
#include "strata/engine/engine.hpp"
#include "strata/orm/events.hpp"
#include "strata/orm/mapping.hpp"
#include "strata/orm/session.hpp"
#include "strata/schema/table.hpp"

namespace strata {

struct DatabaseOptions {
  bool echo = false;                 // print every statement with its parameters and timing
  engine::EngineOptions engine{};    // pool size and timeout, busy timeout, foreign keys
  schema::NamingConvention naming{};  // names of constraints and indexes
  // Named databases besides the default one, name -> URL (Flask-SQLAlchemy's binds). A model
  // lives in one when its Model<T> says `static constexpr auto bind = "name";`; the session
  // sends each statement to its model's database. Engine options and naming apply to each.
  std::map<std::string, std::string> binds{};
  // Record the objects each transaction writes, for the signals before_models_committed and
  // models_committed (Flask-SQLAlchemy's SQLALCHEMY_TRACK_MODIFICATIONS). Off: nothing is
  // recorded, and connecting to those signals is an ArgumentError.
  bool track_modifications = false;
};

namespace detail {
struct DatabaseCore;
struct ThreadSessions;
}

class Database {
 public:
  // Throws ArgumentError for a bad URL or an unsupported backend. Connects lazily.
  explicit Database(std::string_view url, DatabaseOptions options = {});
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Registers models: their tables join metadata() (create_all, flush order).
  template <class... Ts>
  Database& register_models() {
    (register_mapper(mapper_of<Ts>()), ...);
    return *this;
  }
  Database& register_mapper(const Mapper& m);
  // A table without a model (an association table, say), in the default database or the
  // named bind.
  const schema::Table& add_table(schema::Table t, std::string_view bind = {});

  // CREATE TABLE (and indexes) for every table not yet in its database, parents first; in
  // every database (the default and each bind).
  void create_all();
  // DROP TABLE for every table of metadata() that exists, children first; in every database.
  void drop_all();

  // The app's session of the calling thread, created on first use: Flask-SQLAlchemy's
  // db.session, a scoped session. Each thread has its own (a session belongs to one thread),
  // kept until remove_session() on that thread, the thread's end or the database's; those
  // close it, rolling back what it did not commit.
  Session& session();
  // Closes the calling thread's session, which then works as a new session (the same object:
  // a reference session() gave stays valid). Call it when a request or a task ends
  // (Flask-SQLAlchemy does at app context teardown).
  void remove_session();
  // A session of its own, owned by the caller.
  Session new_session();

  // The names of the binds (DatabaseOptions::binds), sorted; empty for one database.
  std::vector<std::string> binds() const;
  // The default database's engine, dialect and tables, or those of the bind named `bind`
  // (ArgumentError for an unknown name).
  engine::Engine& engine(std::string_view bind = {});
  const dialect::Dialect& dialect(std::string_view bind = {}) const;
  const schema::MetaData& metadata(std::string_view bind = {}) const;
  // The rename hints of the models registered in that database, for autogenerate: a column's
  // renamed_from("old") as "table.old" -> "new", a model's Model<T>::renamed_from as
  // "old_table" -> "table".
  std::map<std::string, std::string> rename_hints(std::string_view bind = {}) const;
  void set_echo(bool on);

  // The event handlers of this database (see strata/orm/events.hpp):
  //   db.events().listen<User>(strata::Event::before_insert, [](User& u, auto& conn) {...});
  Events events();

  detail::DatabaseCore& core() noexcept { return *core_; }

 private:
  std::unique_ptr<detail::DatabaseCore> core_;
  std::shared_ptr<detail::ThreadSessions> sessions_;  // session(): one per thread
};

// The environment variable `name`, or fallback when it is unset or empty.
std::string env(const char* name, std::string_view fallback);

}  // namespace strata
