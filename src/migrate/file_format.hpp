// Private to migration files (file_render.cpp, file_parse.cpp): the vocabulary both sides
// share — type names, referential actions, operation kind names, identifier rules, UTF-8
// checks and "did you mean" suggestions. See docs/migration-file-format.md.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/migrate/ops.hpp"
#include "strata/schema/table.hpp"

namespace strata::migrate::detail::file {

// "String(64)" -> Type. Accepts exactly the names schema::to_string writes for valid types:
// the bare names and String(n) with 1 <= n <= INT_MAX. nullopt for anything else.
std::optional<schema::Type> parse_type_name(std::string_view name);
// "Integer, BigInteger, ..., String, String(n), ..." for error messages.
std::string type_names_list();
// The bare type names ("Integer", "String", ...), for suggestions.
std::vector<std::string_view> type_names();

// "CASCADE", "SET NULL"... as schema::to_sql writes them; case and '_' for ' ' are forgiven.
std::optional<schema::ReferentialAction> parse_referential_action(std::string_view text);
std::string referential_actions_list();  // "NO ACTION, RESTRICT, CASCADE, SET NULL, SET DEFAULT"

// The file-format name of every operation kind, in the order of the Operation variant
// (taken from kind_name(), so the file format and ops.cpp cannot disagree).
const std::vector<std::string_view>& operation_names();
// A default-constructed operation of the kind named name, or nullopt for an unknown name.
std::optional<Operation> make_operation(std::string_view name);

// Revision ids: one to revision_id_max of [A-Za-z0-9_] (the ledger's column holds that many).
// strata writes 12 lower-case hex digits; hand names such as "initial_schema" are accepted too.
inline constexpr std::size_t revision_id_max = 64;
bool is_revision_id(std::string_view id);
// Branch labels: one or more of [A-Za-z0-9_.-] ('@' is reserved for "label@head" targets).
bool is_branch_label(std::string_view label);
// Dialect keys of execute's sql/reverse maps: "*" or one or more of [a-z0-9_].
bool is_dialect_key(std::string_view key);

// Decodes one UTF-8 sequence at text[i]. Returns the code point and advances i, or nullopt
// (i unchanged) for an invalid, overlong or truncated sequence or a surrogate.
std::optional<char32_t> decode_utf8(std::string_view text, std::size_t& i);
// Code points above ASCII that may stand as they are in a plain or literal scalar: not C1
// controls, not the characters YAML 1.1 reads as line breaks (U+2028, U+2029), not the BOM or
// the non-characters U+FFFE, U+FFFF.
bool is_printable_unicode(char32_t c);
// The byte offset of the first invalid UTF-8 sequence in text, or nullopt when it is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

// The candidate closest to word (equal ignoring case, or within 1 edit for words of up to 3
// characters and 2 edits for longer ones), if any.
std::optional<std::string_view> closest(std::string_view word,
                                        const std::vector<std::string_view>& candidates);
// s made safe for one line of a comment or an error message: line breaks and other control
// characters become spaces, invalid UTF-8 bytes '?', so no text can end a comment and be
// read as YAML. Longer than max_chars code points: cut, with "..." appended.
std::string single_line(std::string_view s, std::size_t max_chars = std::string_view::npos);
// "a, b, c"
std::string join(const std::vector<std::string_view>& words, std::string_view separator = ", ");

}  // namespace strata::migrate::detail::file
