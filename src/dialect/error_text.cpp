// The one-line wording of driver failures shared by the dialects (error_text.hpp).
#include "error_text.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <string>

namespace strata::dialect::error_text {

namespace {
constexpr std::size_t max_param_display = 40;  // characters of one parameter in what()
// A statement of many parameters (IN with thousands of values) would make a message of
// megabytes: the SQL and the parameters shown stop here, and say how much there was.
constexpr std::size_t max_sql_display = 2000;
constexpr std::size_t max_params_display = 50;
}  // namespace

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t j = text.find_first_not_of(" \t\r\n", i);
    const std::size_t end = j == std::string_view::npos ? text.size() : j;
    if (end == i) {
      out += text[i++];
      continue;
    }
    const std::string_view space = text.substr(i, end - i);
    if (space.find_first_of("\r\n") == std::string_view::npos) {
      out += space;
    } else if (i != 0 && end != text.size()) {
      out += ' ';
    }
    i = end;
  }
  return out;
}

std::string statement_context(const std::string& sql, const std::vector<std::string>& params) {
  std::string out;
  if (!sql.empty()) {
    std::string text = one_line(sql);
    if (text.size() > max_sql_display)
      text = text.substr(0, max_sql_display) + "... (" + std::to_string(text.size()) +
             " characters)";
    out += " [SQL: " + text + "]";
  }
  if (!params.empty()) {
    out += " [parameters: ";
    const std::size_t shown = std::min(params.size(), max_params_display);
    for (std::size_t i = 0; i < shown; ++i) {
      if (i != 0) out += ", ";
      const std::string& p = params[i];
      out += p.size() <= max_param_display ? p : p.substr(0, max_param_display) + "...";
    }
    if (shown < params.size())
      out += ", ... (" + std::to_string(params.size()) + " parameters)";
    out += ']';
  }
  return out;
}

bool is_commit(std::string_view sql) {
  std::string words;
  for (char c : sql) {
    if (c == ';') break;
    words += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::istringstream in(words);
  std::string first, second, more;
  in >> first >> second >> more;
  if (first != "COMMIT" && first != "END") return false;
  return more.empty() && (second.empty() || second == "WORK" || second == "TRANSACTION");
}

}  // namespace strata::dialect::error_text
