// Parsing and printing of database URLs (dialect+driver://user:password@host:port/db?k=v).
// Every error is an ArgumentError whose message shows the URL with its password masked.
#include "strata/engine/url.hpp"

#include <charconv>
#include <optional>

#include "strata/error.hpp"

namespace strata::engine {
namespace {

constexpr std::string_view generic_form =
    "expected dialect://user:password@host:port/database, e.g. "
    "postgresql://user:password@localhost:5432/app";
constexpr std::string_view sqlite_form =
    "expected sqlite:///relative/path.db, sqlite:////absolute/path.db or sqlite:// (in memory)";

// Where the password sits in text, by the same rule parse() uses (it runs from the ':' after
// the user name to the first '@'), widened to the last '@' of the host part so that a
// password with an unescaped '@' is still hidden in full.
std::optional<std::pair<std::size_t, std::size_t>> password_span(std::string_view text) {
  std::size_t start = text.find("://");
  start = start == std::string_view::npos ? text.find(':') + 1 : start + 3;
  if (start == 0 || start > text.size()) return std::nullopt;
  const std::size_t user_end = text.find_first_of(":/@", start);
  if (user_end == std::string_view::npos || text[user_end] != ':') return std::nullopt;
  const std::size_t first_at = text.find('@', user_end + 1);
  if (first_at == std::string_view::npos) return std::nullopt;
  const std::size_t host_end = text.find_first_of("/?", first_at);
  const std::size_t last_at = text.substr(0, host_end).rfind('@');
  return std::pair{user_end + 1, last_at};
}

// Query parameters libpq takes a secret in (its connection keywords).
bool secret_parameter(std::string_view key) { return key == "password" || key == "sslpassword"; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes s; nullopt on a malformed escape.
std::optional<std::string> decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// text with its password (if any) replaced by ***: the one before '@', and the values of the
// query's password parameters.
std::string redacted(std::string_view text) {
  std::string out;
  if (const auto span = password_span(text)) {
    out = text.substr(0, span->first);
    out += "***";
    out += text.substr(span->second);
  } else {
    out = text;
  }
  const std::size_t query = out.find('?');
  if (query == std::string::npos) return out;
  for (std::size_t at = query + 1; at < out.size();) {
    std::size_t end = out.find('&', at);
    if (end == std::string::npos) end = out.size();
    const std::size_t eq = out.find('=', at);
    // The key as libpq would read it: pass%77ord is password.
    const auto key = eq != std::string::npos && eq < end
                         ? decode(std::string_view(out).substr(at, eq - at))
                         : std::nullopt;
    if (key && secret_parameter(*key)) {
      out.replace(eq + 1, end - eq - 1, "***");
      end = eq + 4;
    }
    at = end + 1;
  }
  return out;
}

[[noreturn]] void fail(std::string_view text, std::string_view problem, std::string_view form) {
  std::string msg = "invalid database URL '" + redacted(text) + "': ";
  msg += problem;
  msg += "; ";
  msg += form;
  throw ArgumentError(msg);
}


// Percent-encodes everything but unreserved characters and those in keep.
std::string encode(std::string_view s, std::string_view keep = {}) {
  static constexpr std::string_view digits = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      out += '%';
      out += digits[u >> 4];
      out += digits[u & 0xF];
    }
  }
  return out;
}

bool valid_scheme(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return !s.empty();
}

// The parts of the text after "://", before decoding.
struct RawParts {
  std::optional<std::string_view> username;  // set when there is a '@'
  std::optional<std::string_view> password;  // set when the user info has a ':'
  std::string_view host;                     // without IPv6 brackets
  bool bracketed_host = false;
  std::optional<std::string_view> port;      // text after the host's ':'
  std::optional<std::string_view> database;  // after the first '/' of the path
  std::optional<std::string_view> query;     // after '?'
};

RawParts split(std::string_view text, std::string_view rest, std::string_view form) {
  RawParts p;
  // User info: a user name without ':' '/' '@', then optionally ':' and a password running
  // to the first '@' (so a password may hold '/' or '?' but must write '@' as %40). An '@'
  // after both a '/' and a '?' is the query's (host:5432/db?application_name=me@host).
  const std::size_t user_end = rest.find_first_of(":/@");
  if (user_end != std::string_view::npos && rest[user_end] == '@') {
    p.username = rest.substr(0, user_end);
    rest.remove_prefix(user_end + 1);
  } else if (user_end != std::string_view::npos && rest[user_end] == ':') {
    const std::size_t at = rest.find('@', user_end + 1);
    if (at != std::string_view::npos && at > rest.find('/', user_end + 1) &&
        at > rest.find('?', user_end + 1)) {
      // no user info
    } else if (at != std::string_view::npos) {
      p.username = rest.substr(0, user_end);
      p.password = rest.substr(user_end + 1, at - user_end - 1);
      rest.remove_prefix(at + 1);
    }
  }

  const std::size_t qpos = rest.find('?');
  if (qpos != std::string_view::npos) {
    p.query = rest.substr(qpos + 1);
    rest = rest.substr(0, qpos);
  }
  const std::size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos) p.database = rest.substr(slash + 1);

  if (!hostport.empty() && hostport.front() == '[') {
    const std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) fail(text, "IPv6 host has no closing ']'", form);
    p.host = hostport.substr(1, close - 1);
    p.bracketed_host = true;
    hostport.remove_prefix(close + 1);
    if (!hostport.empty() && hostport.front() != ':') {
      fail(text, "unexpected text after the IPv6 host's ']'", form);
    }
    if (!hostport.empty()) p.port = hostport.substr(1);
  } else {
    const std::size_t colon = hostport.find(':');
    p.host = hostport.substr(0, colon);
    if (colon != std::string_view::npos) p.port = hostport.substr(colon + 1);
  }
  if (p.host.find('@') != std::string_view::npos) {
    fail(text, "host contains '@'; write '@' in a user name or password as %40", form);
  }
  return p;
}

int parse_port(std::string_view text, std::string_view port, std::string_view form) {
  if (port.empty()) fail(text, "missing port number after ':'", form);
  int value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec == std::errc::result_out_of_range) {
    fail(text, "port is out of range (1-65535)", form);
  }
  if (ec != std::errc{} || end != port.data() + port.size()) {
    fail(text, "port '" + std::string(port) + "' is not a number", form);
  }
  if (value < 1 || value > 65535) fail(text, "port is out of range (1-65535)", form);
  return value;
}

std::string decode_or_fail(std::string_view text, std::string_view part, std::string_view what,
                           std::string_view form) {
  auto decoded = decode(part);
  if (!decoded) {
    fail(text, std::string(what) + " has a malformed %-escape (write '%' as %25)", form);
  }
  return std::move(*decoded);
}

}  // namespace

Url Url::parse(std::string_view text) {
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    const bool looks_sqlite = text.substr(0, 7) == "sqlite:";
    fail(text, "missing '://' after the dialect name", looks_sqlite ? sqlite_form : generic_form);
  }
  Url url;
  url.drivername = std::string(text.substr(0, sep));
  if (url.drivername.empty()) fail(text, "empty dialect name before '://'", generic_form);
  if (!valid_scheme(url.drivername)) {
    fail(text,
         "dialect name '" + url.drivername +
             "' may hold only letters, digits, '+', '-', '.' and '_'",
         generic_form);
  }
  const bool sqlite = url.backend() == "sqlite";
  const std::string_view form = sqlite ? sqlite_form : generic_form;

  const RawParts p = split(text, text.substr(sep + 3), form);
  if (sqlite && (p.username || !p.host.empty() || p.port)) {
    fail(text, "sqlite takes no host, user or port; use sqlite:///path", sqlite_form);
  }
  if (p.username) url.username = decode_or_fail(text, *p.username, "user name", form);
  if (p.password) url.password = decode_or_fail(text, *p.password, "password", form);
  url.host = std::string(p.host);
  if (p.bracketed_host && url.host.empty()) fail(text, "empty IPv6 host '[]'", form);
  if (p.port) url.port = parse_port(text, *p.port, form);
  if (p.database) url.database = std::string(*p.database);

  if (p.query) {
    std::string_view q = *p.query;
    while (!q.empty()) {
      const std::size_t amp = q.find('&');
      const std::string_view item = q.substr(0, amp);
      q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
      if (item.empty()) continue;
      const std::size_t eq = item.find('=');
      std::string key = decode_or_fail(text, item.substr(0, eq), "query key", form);
      if (key.empty()) fail(text, "query parameter with an empty name", form);
      std::string value = eq == std::string_view::npos
                              ? std::string()
                              : decode_or_fail(text, item.substr(eq + 1), "query value", form);
      url.query[std::move(key)] = std::move(value);
    }
  }
  return url;
}

std::string Url::to_string(bool show_password) const {
  std::string out = drivername + "://";
  if (!username.empty() || !password.empty()) {
    out += encode(username);
    if (!password.empty()) out += ':' + (show_password ? encode(password) : "***");
    out += '@';
  }
  if (host.find(':') != std::string::npos) {
    out += '[' + host + ']';
  } else {
    out += host;
  }
  if (port) out += ':' + std::to_string(*port);
  if (!database.empty()) out += '/' + database;
  char sep = '?';
  for (const auto& [key, value] : query) {
    out += sep;
    out += encode(key);
    out += '=';
    out += !show_password && secret_parameter(key) ? "***" : encode(value, "/:");
    sep = '&';
  }
  return out;
}

std::string Url::backend() const { return drivername.substr(0, drivername.find('+')); }

}  // namespace strata::engine
