// NamingConvention::apply: names every unnamed primary key, index, unique, foreign key and
// check constraint of a table from the convention's patterns, so DDL and migrations can
// always refer to them by name. Called by MetaData::add.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "strata/error.hpp"
#include "strata/schema/table.hpp"

namespace strata::schema {

namespace {

// Longer generated names are shortened (see fit()).
constexpr std::size_t max_name_length = max_identifier_length;
constexpr std::size_t hash_suffix_length = 9;  // "_" + 8 hex digits

constexpr std::string_view constraint_name_token = "constraint_name";

enum class Kind { primary_key, index, unique, foreign_key, check };

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::primary_key: return "primary key";
    case Kind::index: return "index";
    case Kind::unique: return "unique constraint";
    case Kind::foreign_key: return "foreign key";
    case Kind::check: return "check constraint";
  }
  return "constraint";
}

// What the tokens of one pattern stand for. columns and referred_table are null when the kind
// has none; constraint_name is null except for checks.
struct TokenValues {
  const std::string* table_name = nullptr;
  const std::vector<std::string>* columns = nullptr;
  const std::string* referred_table = nullptr;
  const std::string* constraint_name = nullptr;
};

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// The value of token for kind. With values == nullptr only checks that the token is known and
// usable for kind (returns ""), so a bad pattern fails even before anything needs it.
std::string token_value(std::string_view token, Kind kind, std::string_view pattern,
                        const TokenValues* values) {
  auto unusable = [&](std::string_view why) {
    return ArgumentError("naming convention token %(" + std::string(token) + ")s in the " +
                         std::string(kind_name(kind)) + " pattern '" + std::string(pattern) +
                         "' cannot be used: " + std::string(why));
  };
  if (token == "table_name") return values ? *values->table_name : std::string();
  if (token == "column_0_name" || token == "column_0_N_name") {
    if (kind == Kind::check) throw unusable("a check constraint has no columns");
    if (!values) return {};
    if (values->columns->empty()) {
      throw ArgumentError(std::string(kind_name(kind)) + " on table '" + *values->table_name +
                          "' has no columns");
    }
    return token == "column_0_name" ? values->columns->front() : join(*values->columns, "_");
  }
  if (token == "referred_table_name") {
    if (kind != Kind::foreign_key) throw unusable("only a foreign key refers to a table");
    return values ? *values->referred_table : std::string();
  }
  if (token == constraint_name_token) {
    if (kind != Kind::check) throw unusable("only a check constraint takes a given name");
    return values ? *values->constraint_name : std::string();
  }
  throw ArgumentError("unknown naming convention token %(" + std::string(token) + ")s in the " +
                      std::string(kind_name(kind)) + " pattern '" + std::string(pattern) +
                      "'; known tokens: %(table_name)s, %(column_0_name)s, " +
                      "%(column_0_N_name)s, %(referred_table_name)s, %(constraint_name)s");
}

// pattern with every %(token)s replaced; see token_value() for values == nullptr.
std::string render(std::string_view pattern, Kind kind, const TokenValues* values) {
  std::string out;
  std::size_t pos = 0;
  while (pos < pattern.size()) {
    const std::size_t open = pattern.find("%(", pos);
    if (open == std::string_view::npos) {
      out += pattern.substr(pos);
      break;
    }
    out += pattern.substr(pos, open - pos);
    const std::size_t close = pattern.find(")s", open + 2);
    if (close == std::string_view::npos) {
      throw ArgumentError("naming convention pattern '" + std::string(pattern) + "' for " +
                          std::string(kind_name(kind)) + " has a token without its closing ')s'");
    }
    out += token_value(pattern.substr(open + 2, close - open - 2), kind, pattern, values);
    pos = close + 2;
  }
  return out;
}

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

bool is_hex_tail(std::string_view name) {
  if (name.size() < hash_suffix_length || name[name.size() - hash_suffix_length] != '_') {
    return false;
  }
  for (const char c : name.substr(name.size() - hash_suffix_length + 1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A generated name that fits max_name_length: longer names keep their first bytes (never
// splitting a UTF-8 sequence) plus "_" and the FNV-1a hash of the full name in hex, so two
// long names that differ only at the end stay distinct, and the result is deterministic.
std::string fit(std::string name) {
  if (name.size() <= max_name_length) return name;
  const std::uint32_t h = fnv1a(name);
  std::size_t cut = max_name_length - hash_suffix_length;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0u) == 0x80u) --cut;
  name.resize(cut);
  name += '_';
  static constexpr char digits[] = "0123456789abcdef";
  for (int shift = 28; shift >= 0; shift -= 4) name += digits[(h >> shift) & 0xFu];
  return name;
}

std::string generate(std::string_view pattern, Kind kind, const TokenValues& values) {
  return fit(render(pattern, kind, &values));
}

std::vector<std::string> primary_key_columns(const Table& t) {
  if (!t.primary_key.columns.empty()) return t.primary_key.columns;
  std::vector<std::string> out;
  for (const Column& c : t.columns) {
    if (c.primary_key) out.push_back(c.name);
  }
  return out;
}

// Whether a check's name already has the form the pattern produces (a full name, possibly
// shortened by fit()), as opposed to a short given name still to be expanded.
bool is_conventional_check_name(std::string_view name, std::string_view pattern,
                                const std::string& table_name) {
  static const std::string marker(1, '\0');
  TokenValues probe;
  probe.table_name = &table_name;
  probe.constraint_name = &marker;
  const std::string rendered = render(pattern, Kind::check, &probe);
  const std::string_view prefix = std::string_view(rendered).substr(0, rendered.find(marker));
  const std::string_view suffix = std::string_view(rendered).substr(rendered.rfind(marker) + 1);
  const bool full = name.size() > prefix.size() + suffix.size() && name.starts_with(prefix) &&
                    name.ends_with(suffix);
  if (full) return true;
  if (name.size() > max_name_length || !is_hex_tail(name)) return false;
  const std::size_t kept = name.size() - hash_suffix_length;
  return name.substr(0, std::min(kept, prefix.size())) == prefix.substr(0, kept);
}

}  // namespace

void NamingConvention::apply(Table& t) const {
  // Every pattern is checked up front, so a bad token fails whatever the table holds.
  render(primary_key, Kind::primary_key, nullptr);
  render(index, Kind::index, nullptr);
  render(unique, Kind::unique, nullptr);
  render(foreign_key, Kind::foreign_key, nullptr);
  render(check, Kind::check, nullptr);

  TokenValues values;
  values.table_name = &t.name;

  if (t.primary_key.name.empty()) {
    const std::vector<std::string> pk = primary_key_columns(t);
    if (!pk.empty()) {
      values.columns = &pk;
      t.primary_key.name = generate(primary_key, Kind::primary_key, values);
    }
  }
  for (Index& ix : t.indexes) {
    if (!ix.name.empty()) continue;
    values.columns = &ix.columns;
    ix.name = generate(index, Kind::index, values);
  }
  for (UniqueConstraint& uq : t.uniques) {
    if (!uq.name.empty()) continue;
    values.columns = &uq.columns;
    uq.name = generate(unique, Kind::unique, values);
  }
  for (ForeignKey& fk : t.foreign_keys) {
    if (!fk.name.empty()) continue;
    values.columns = &fk.columns;
    values.referred_table = &fk.referred_table;
    fk.name = generate(foreign_key, Kind::foreign_key, values);
  }
  values.columns = nullptr;
  values.referred_table = nullptr;

  const bool takes_given_name =
      check.find("%(" + std::string(constraint_name_token) + ")s") != std::string::npos;
  for (CheckConstraint& ck : t.checks) {
    if (!takes_given_name) {
      if (ck.name.empty()) ck.name = generate(check, Kind::check, values);
      continue;
    }
    if (ck.name.empty()) {
      throw ArgumentError("check constraint on table '" + t.name + "' needs a name (CHECK (" +
                          ck.sqltext + ")): the naming convention '" + check +
                          "' uses %(constraint_name)s");
    }
    if (is_conventional_check_name(ck.name, check, t.name)) continue;
    values.constraint_name = &ck.name;
    ck.name = generate(check, Kind::check, values);
    values.constraint_name = nullptr;
  }
}

}  // namespace strata::schema
