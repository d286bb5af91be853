// Database URLs in the SQLAlchemy form: dialect://user:password@host:port/database?key=value.
//   sqlite:///relative/path.db   sqlite:////absolute/path.db   sqlite://  (in memory)
//   postgresql://user:password@host:5432/dbname?host=/socket/dir
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace strata::engine {

struct Url {
  std::string drivername;  // "sqlite", "postgresql" (the part before "://", "+driver" kept)
  std::string username;    // percent-decoded
  std::string password;    // percent-decoded; never shown by to_string() unless asked
  std::string host;
  std::optional<int> port;
  std::string database;    // for sqlite: the file path, empty or ":memory:" for memory
  std::map<std::string, std::string> query;

  // Throws ArgumentError with a one-line message naming what is wrong and showing the
  // expected form, e.g. "invalid database URL 'sqlite:/x.db': expected sqlite:///path ...".
  // The password never appears in the message.
  static Url parse(std::string_view text);

  // The URL back as text; the password is shown as *** unless show_password.
  std::string to_string(bool show_password = false) const;

  // The backend name: drivername up to any "+" ("postgresql+libpq" -> "postgresql").
  std::string backend() const;

  // sqlite only: whether the database lives in memory.
  bool is_memory() const { return database.empty() || database == ":memory:"; }
};

}  // namespace strata::engine
