// Private to the dialect layer: how every driver words a failure in one line — the text made
// one line, then " [SQL: ...] [parameters: ...]".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strata::dialect::error_text {

// text with each run of white space that holds a line break made one space (none at the ends).
std::string one_line(std::string_view text);

// " [SQL: <sql on one line>] [parameters: p1, p2...]" (each parameter cut at 40 characters, the
// SQL at 2,000 and the list at 50 parameters, saying how long they were);
// the parts that are empty are left out.
std::string statement_context(const std::string& sql, const std::vector<std::string>& params);

// Whether sql is a COMMIT: COMMIT or END, with WORK or TRANSACTION or neither, in any case,
// with surrounding blanks and a final semicolon.
bool is_commit(std::string_view sql);

}  // namespace strata::dialect::error_text
