// Compiles the tree of sql/ast.hpp to SQL text and bound parameters for one SqlDialect, and
// holds the standard-SQL default of SqlDialect's quoting rule.
//
// Parentheses follow precedence, lowest first: OR, AND, NOT, comparisons (= != < LIKE IN
// BETWEEN IS), ||, + -, * /, unary minus, primaries. A child is wrapped only when its level
// is below what its parent needs, so top-level clauses never get outer parentheses. Two
// choices for portability: comparisons never nest unparenthesized (PostgreSQL and SQLite rank
// IS / LIKE differently), and || never mixes unparenthesized with arithmetic (SQLite binds ||
// tighter than +, PostgreSQL looser).
//
// Other rendering rules:
// - A RawExpr is treated as a self-contained primary: the caller writes it so.
// - ColumnExpr{"", "*"} or {"t", "*"} renders a bare star (count(*), t.*).
// - A LabelExpr renders `expr AS alias` in a select list and as a lone expression; in ORDER BY
//   and GROUP BY it renders the alias; nested anywhere else it renders just expr.
#include "strata/sql/compiler.hpp"

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "strata/error.hpp"

namespace strata::sql {

namespace {

// Precedence levels; a higher level binds tighter.
constexpr int prec_or = 1;
constexpr int prec_and = 2;
constexpr int prec_not = 3;
constexpr int prec_comparison = 4;
constexpr int prec_concat = 5;
constexpr int prec_additive = 6;
constexpr int prec_multiplicative = 7;
constexpr int prec_unary = 8;
constexpr int prec_primary = 9;

// A function name is written verbatim, so it must be a plain (optionally dotted) name.
bool is_function_name(std::string_view name) {
  bool at_part_start = true;
  for (const char c : name) {
    const bool alpha = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (c == '.') {
      if (at_part_start) return false;
      at_part_start = true;
    } else if (at_part_start ? alpha : (alpha || digit)) {
      at_part_start = false;
    } else {
      return false;
    }
  }
  return !name.empty() && !at_part_start;
}

// A CAST type is written verbatim, so it must be a plain type: words of letters, digits and
// underscores (DOUBLE PRECISION), optionally followed by (n) or (n, m).
bool is_type_name(std::string_view type) {
  std::size_t i = 0;
  auto word_char = [](char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  while (i < type.size() && (word_char(type[i]) || (type[i] == ' ' && i > 0))) ++i;
  if (i == 0 || type[i - 1] == ' ') return false;
  if (i == type.size()) return true;
  if (type[i] != '(' || type.back() != ')') return false;
  const auto args = type.substr(i + 1, type.size() - i - 2);
  bool digit_seen = false;
  for (const char c : args) {
    if (c >= '0' && c <= '9') digit_seen = true;
    else if (c != ',' && c != ' ') return false;
  }
  return digit_seen;
}

int binary_precedence(BinaryOp op) {
  switch (op) {
    case BinaryOp::or_: return prec_or;
    case BinaryOp::and_: return prec_and;
    case BinaryOp::eq:
    case BinaryOp::ne:
    case BinaryOp::lt:
    case BinaryOp::le:
    case BinaryOp::gt:
    case BinaryOp::ge:
    case BinaryOp::like:
    case BinaryOp::not_like:
    case BinaryOp::ilike:
    case BinaryOp::not_ilike: return prec_comparison;
    case BinaryOp::concat: return prec_concat;
    case BinaryOp::add:
    case BinaryOp::sub: return prec_additive;
    case BinaryOp::mul:
    case BinaryOp::div:
    case BinaryOp::mod: return prec_multiplicative;
  }
  return prec_primary;
}

std::string_view binary_text(BinaryOp op) {
  switch (op) {
    case BinaryOp::eq: return " = ";
    case BinaryOp::ne: return " != ";
    case BinaryOp::lt: return " < ";
    case BinaryOp::le: return " <= ";
    case BinaryOp::gt: return " > ";
    case BinaryOp::ge: return " >= ";
    case BinaryOp::and_: return " AND ";
    case BinaryOp::or_: return " OR ";
    case BinaryOp::like: return " LIKE ";
    case BinaryOp::not_like: return " NOT LIKE ";
    case BinaryOp::ilike: return " ILIKE ";
    case BinaryOp::not_ilike: return " NOT ILIKE ";
    case BinaryOp::add: return " + ";
    case BinaryOp::sub: return " - ";
    case BinaryOp::mul: return " * ";
    case BinaryOp::div: return " / ";
    case BinaryOp::mod: return " % ";
    case BinaryOp::concat: return " || ";
  }
  return " ? ";
}

bool same_expr(const ExprPtr& a, const ExprPtr& b);

// Whether two expressions are written the same (their parameters holding equal values).
bool same_node(const Expr& a, const Expr& b) {
  if (a.node.index() != b.node.index()) return false;
  return std::visit(
      [&](const auto& x) -> bool {
        using N = std::decay_t<decltype(x)>;
        const auto& y = std::get<N>(b.node);
        if constexpr (std::is_same_v<N, ColumnExpr>) {
          return x.table == y.table && x.name == y.name;
        } else if constexpr (std::is_same_v<N, ParamExpr>) {
          return x.typed == y.typed && x.value == y.value;
        } else if constexpr (std::is_same_v<N, PlaceholderExpr>) {
          return false;  // bound by the caller, each its own
        } else if constexpr (std::is_same_v<N, RawExpr>) {
          return x.text == y.text;
        } else if constexpr (std::is_same_v<N, BinaryExpr>) {
          return x.op == y.op && x.escape == y.escape && same_expr(x.left, y.left) &&
                 same_expr(x.right, y.right);
        } else if constexpr (std::is_same_v<N, UnaryExpr>) {
          return x.op == y.op && same_expr(x.operand, y.operand);
        } else if constexpr (std::is_same_v<N, InExpr>) {
          return x.negated == y.negated && x.subquery == y.subquery &&
                 same_expr(x.operand, y.operand) &&
                 std::equal(x.items.begin(), x.items.end(), y.items.begin(), y.items.end(),
                            same_expr);
        } else if constexpr (std::is_same_v<N, BetweenExpr>) {
          return same_expr(x.operand, y.operand) && same_expr(x.low, y.low) &&
                 same_expr(x.high, y.high);
        } else if constexpr (std::is_same_v<N, FunctionExpr>) {
          return x.name == y.name && x.distinct == y.distinct &&
                 std::equal(x.args.begin(), x.args.end(), y.args.begin(), y.args.end(),
                            same_expr);
        } else if constexpr (std::is_same_v<N, SubqueryExpr>) {
          return x.select == y.select;
        } else if constexpr (std::is_same_v<N, CastExpr>) {
          return x.type == y.type && x.of_integer_sum == y.of_integer_sum &&
                 same_expr(x.expr, y.expr);
        } else {
          static_assert(std::is_same_v<N, LabelExpr>);
          return x.alias == y.alias && same_expr(x.expr, y.expr);
        }
      },
      a.node);
}

bool same_expr(const ExprPtr& a, const ExprPtr& b) {
  if (a == b) return true;
  return a && b && same_node(*a, *b);
}

// Whether an expression binds a value (a subquery may).
bool binds_values(const Expr& e) {
  return std::visit(
      [](const auto& x) -> bool {
        using N = std::decay_t<decltype(x)>;
        auto any = [](const std::vector<ExprPtr>& items) {
          return std::any_of(items.begin(), items.end(),
                             [](const ExprPtr& i) { return i && binds_values(*i); });
        };
        auto one = [](const ExprPtr& i) { return i && binds_values(*i); };
        if constexpr (std::is_same_v<N, ParamExpr> || std::is_same_v<N, PlaceholderExpr> ||
                      std::is_same_v<N, SubqueryExpr>) {
          return true;
        } else if constexpr (std::is_same_v<N, ColumnExpr> || std::is_same_v<N, RawExpr>) {
          return false;
        } else if constexpr (std::is_same_v<N, BinaryExpr>) {
          return one(x.left) || one(x.right);
        } else if constexpr (std::is_same_v<N, UnaryExpr>) {
          return one(x.operand);
        } else if constexpr (std::is_same_v<N, InExpr>) {
          return x.subquery || one(x.operand) || any(x.items);
        } else if constexpr (std::is_same_v<N, BetweenExpr>) {
          return one(x.operand) || one(x.low) || one(x.high);
        } else if constexpr (std::is_same_v<N, FunctionExpr>) {
          return any(x.args);
        } else {  // the one expression a cast or a label holds
          static_assert(std::is_same_v<N, CastExpr> || std::is_same_v<N, LabelExpr>);
          return one(x.expr);
        }
      },
      e.node);
}

int precedence(const Expr& e) {
  if (const auto* b = std::get_if<BinaryExpr>(&e.node)) return binary_precedence(b->op);
  if (const auto* u = std::get_if<UnaryExpr>(&e.node)) {
    switch (u->op) {
      case UnaryOp::not_:
      case UnaryOp::not_exists: return prec_not;
      case UnaryOp::neg: return prec_unary;
      case UnaryOp::is_null:
      case UnaryOp::is_not_null: return prec_comparison;
      case UnaryOp::exists: return prec_primary;
    }
  }
  if (std::holds_alternative<InExpr>(e.node) || std::holds_alternative<BetweenExpr>(e.node)) {
    return prec_comparison;
  }
  if (const auto* l = std::get_if<LabelExpr>(&e.node)) {
    return l->expr ? precedence(*l->expr) : prec_primary;
  }
  return prec_primary;
}

// One compilation: the text and parameters being written, shared by nested subqueries so
// placeholders are numbered across the whole statement.
class Writer {
 public:
  explicit Writer(const SqlDialect& d) : d_(d) { out_.sql.reserve(128); }

  Compiled take() && { return std::move(out_); }

  void select(const Select& s);
  void lock(const RowLock& l);
  void insert(const Insert& s);
  void update(const Update& s);
  void delete_(const Delete& s);

  // A lone expression: a label renders as `expr AS alias`.
  void top_level(const Expr& e) {
    if (const auto* l = std::get_if<LabelExpr>(&e.node)) {
      labelled(*l);
    } else {
      node(e);
    }
  }

  void visit(const ColumnExpr& c);
  void visit(const ParamExpr& p);
  void visit(const PlaceholderExpr&);
  void visit(const RawExpr& r);
  void visit(const BinaryExpr& b);
  void visit(const UnaryExpr& u);
  void visit(const InExpr& in);
  void visit(const BetweenExpr& b);
  void visit(const FunctionExpr& f);
  void visit(const SubqueryExpr& s);
  void visit(const CastExpr& c);
  void visit(const LabelExpr& l) { node(checked(l.expr)); }

 private:
  // ` ESCAPE 'c'` after a [I]LIKE's pattern (nothing for 0).
  void like_escape(char escape);
  // A LIKE escape character is one ASCII punctuation character other than the wildcards: a
  // letter would change meaning under the lower() that stands for ILIKE.
  static void check_like_escape(char escape) {
    const bool letter_or_digit = (escape >= '0' && escape <= '9') ||
                                 (escape >= 'A' && escape <= 'Z') ||
                                 (escape >= 'a' && escape <= 'z');
    if (escape < 0x21 || escape > 0x7e || letter_or_digit || escape == '%' || escape == '_')
      throw CompileError("a LIKE escape character must be one ASCII punctuation character other "
                         "than % and _ (got code " +
                         std::to_string(static_cast<int>(static_cast<unsigned char>(escape))) +
                         ")");
  }
  static const Expr& checked(const ExprPtr& e) {
    if (!e) throw CompileError("an expression in the statement is missing (null ExprPtr)");
    return *e;
  }

  void node(const Expr& e) {
    if (!grouped_.empty() && !replaying_) {
      if (Grouped* g = grouped_item(e)) {
        grouped_again(e, *g);
        return;
      }
    }
    std::visit([this](const auto& n) { visit(n); }, e.node);
  }

  // A GROUP BY item that binds values, with numbered placeholders: the numbers its first
  // writing took, for every later writing of the same expression in the statement.
  struct Grouped {
    const Expr* expr;
    std::vector<std::size_t> numbers;
    bool written = false;
  };

  // The innermost SELECT's first: a subquery may use its outer query's grouped items.
  Grouped* grouped_item(const Expr& e) {
    for (auto it = grouped_.rbegin(); it != grouped_.rend(); ++it) {
      if (&e == (*it)->expr || same_node(e, *(*it)->expr)) return *it;
    }
    return nullptr;
  }

  void grouped_again(const Expr& e, Grouped& g) {
    auto visit_node = [&] { std::visit([this](const auto& n) { visit(n); }, e.node); };
    if (!g.written) {
      recorders_.push_back(&g.numbers);
      visit_node();
      recorders_.pop_back();
      g.written = true;
      return;
    }
    replaying_ = &g.numbers;
    replayed_ = 0;
    visit_node();
    const bool whole = replayed_ == g.numbers.size();
    replaying_ = nullptr;
    if (!whole) throw CompileError("a grouped expression was written with other parameters");
  }

  // The GROUP BY items of s for grouped_ (a label's expression), when the dialect numbers its
  // placeholders.
  std::vector<Grouped> grouped_items(const Select& s) const {
    std::vector<Grouped> items;
    if (!d_.numbered_placeholders()) return items;
    for (const ExprPtr& e : s.group_by) {
      const Expr* x = e.get();
      if (const auto* l = x ? std::get_if<LabelExpr>(&x->node) : nullptr) x = l->expr.get();
      if (x && binds_values(*x)) items.push_back({x, {}});
    }
    return items;
  }

  // e, wrapped in parentheses when its precedence is below min_prec.
  void operand(const ExprPtr& e, int min_prec) {
    const Expr& x = checked(e);
    wrapped(x, precedence(x) < min_prec);
  }

  void wrapped(const Expr& e, bool parens) {
    if (parens) out_.sql += '(';
    node(e);
    if (parens) out_.sql += ')';
  }

  void labelled(const LabelExpr& l) {
    node(checked(l.expr));
    out_.sql += " AS ";
    ident(l.alias, "a label");
  }

  void ident(std::string_view name, std::string_view what) {
    if (name.empty()) throw CompileError(std::string(what) + " has an empty name");
    out_.sql += d_.quote(name);
  }

  void next_placeholder(Value v, bool typed = false, bool exact = false) {
    std::size_t n = 0;
    if (replaying_) {
      if (replayed_ == replaying_->size())
        throw CompileError("a grouped expression was written with other parameters");
      n = (*replaying_)[replayed_++];
    } else {
      out_.params.push_back(std::move(v));
      n = out_.params.size();
    }
    for (std::vector<std::size_t>* r : recorders_) r->push_back(n);
    out_.sql += typed ? d_.typed_placeholder(n, out_.params[n - 1], exact) : d_.placeholder(n);
  }

  void expr_list(const std::vector<ExprPtr>& items) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out_.sql += ", ";
      node(checked(items[i]));
    }
  }

  // ORDER BY / GROUP BY item: a label refers to its alias. An item that binds values and is
  // also a result column refers to that column by its position (GROUP BY 1): written again,
  // its values would be other parameters, and PostgreSQL does not take votes / $2 in GROUP BY
  // for the votes / $1 it selects.
  void sort_key(const ExprPtr& e, const std::vector<ExprPtr>& columns) {
    const Expr& x = checked(e);
    if (const auto* l = std::get_if<LabelExpr>(&x.node)) {
      ident(l->alias, "a label");
      return;
    }
    if (binds_values(x)) {
      for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto* c = columns[i] ? &*columns[i] : nullptr;
        if (const auto* l = c ? std::get_if<LabelExpr>(&c->node) : nullptr) c = l->expr.get();
        if (c && same_node(x, *c)) {
          out_.sql += std::to_string(i + 1);
          return;
        }
      }
    }
    node(x);
  }

  void table_ref(const std::string& table, const std::string& alias, std::string_view what) {
    ident(table, what);
    if (!alias.empty()) {
      out_.sql += " AS ";
      ident(alias, "an alias");
    }
  }

  void where(const ExprPtr& w) {
    if (!w) return;
    out_.sql += " WHERE ";
    node(*w);
  }

  void returning(const std::vector<std::string>& columns, std::string_view statement,
                 const std::string& table) {
    if (columns.empty()) return;
    if (!d_.supports_returning()) {
      throw CompileError(std::string(statement) + " on '" + table +
                         "' uses RETURNING, which this database dialect does not support");
    }
    out_.sql += " RETURNING ";
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) out_.sql += ", ";
      ident(columns[i], "a RETURNING column");
    }
  }

  const SqlDialect& d_;
  Compiled out_;
  // The grouped items of the SELECTs being written, outer first; the numbers being recorded,
  // and the numbers being written again.
  std::vector<Grouped*> grouped_;
  std::vector<std::vector<std::size_t>*> recorders_;
  const std::vector<std::size_t>* replaying_ = nullptr;
  std::size_t replayed_ = 0;
};

void Writer::visit(const ColumnExpr& c) {
  if (!c.table.empty()) {
    ident(c.table, "the table of a column");
    out_.sql += '.';
  }
  if (c.name == "*") {
    out_.sql += '*';
  } else {
    ident(c.name, "a column");
  }
}

void Writer::visit(const ParamExpr& p) { next_placeholder(p.value, p.typed, p.exact); }

void Writer::visit(const PlaceholderExpr&) { next_placeholder(Null{}); }

void Writer::visit(const RawExpr& r) {
  if (r.text.empty()) throw CompileError("a raw SQL fragment is empty");
  out_.sql += r.text;
}

void Writer::visit(const BinaryExpr& b) {
  const bool ilike = b.op == BinaryOp::ilike || b.op == BinaryOp::not_ilike;
  if (b.escape != 0) check_like_escape(b.escape);
  if (ilike && !d_.supports_ilike()) {
    out_.sql += "lower(";
    node(checked(b.left));
    out_.sql += b.op == BinaryOp::ilike ? ") LIKE lower(" : ") NOT LIKE lower(";
    node(checked(b.right));
    out_.sql += ')';
    like_escape(b.escape);
    return;
  }
  const int p = binary_precedence(b.op);
  int left_min = p;
  int right_min = p + 1;  // left-associative: a - (b - c) keeps its parentheses
  if (p == prec_comparison) {
    left_min = p + 1;  // comparisons do not chain
  } else if (b.op == BinaryOp::and_ || b.op == BinaryOp::or_ || b.op == BinaryOp::concat) {
    right_min = p;  // associative: a AND b AND c
  }
  auto side = [&](const ExprPtr& e, int min_prec) {
    const Expr& x = checked(e);
    const int cp = precedence(x);
    bool parens = cp < min_prec;
    if (b.op == BinaryOp::concat) {
      parens = parens || cp == prec_additive || cp == prec_multiplicative;
    }
    wrapped(x, parens);
  };
  side(b.left, left_min);
  out_.sql += binary_text(b.op);
  side(b.right, right_min);
  like_escape(b.escape);
}

void Writer::like_escape(char escape) {
  if (escape == 0) return;
  out_.sql += " ESCAPE '";
  out_.sql += escape;
  if (escape == '\'') out_.sql += escape;
  out_.sql += '\'';
}

void Writer::visit(const UnaryExpr& u) {
  switch (u.op) {
    case UnaryOp::not_: {
      out_.sql += "NOT ";
      const Expr& x = checked(u.operand);
      wrapped(x, precedence(x) != prec_primary);
      return;
    }
    case UnaryOp::neg: {
      out_.sql += '-';
      const Expr& x = checked(u.operand);
      // A raw fragment could start with '-', and "--" would open a comment.
      wrapped(x, precedence(x) != prec_primary || std::holds_alternative<RawExpr>(x.node));
      return;
    }
    case UnaryOp::is_null:
    case UnaryOp::is_not_null:
      operand(u.operand, prec_comparison + 1);
      out_.sql += u.op == UnaryOp::is_null ? " IS NULL" : " IS NOT NULL";
      return;
    case UnaryOp::exists:
    case UnaryOp::not_exists: {
      const Expr& x = checked(u.operand);
      if (!std::holds_alternative<SubqueryExpr>(x.node)) {
        throw CompileError("EXISTS needs a subquery operand (sql::subquery(select))");
      }
      out_.sql += u.op == UnaryOp::exists ? "EXISTS " : "NOT EXISTS ";
      node(x);
      return;
    }
  }
}

void Writer::visit(const InExpr& in) {
  if (!in.subquery && in.items.empty()) {
    // x IN () is not valid SQL; an empty set matches nothing (and NOT IN matches everything).
    out_.sql += in.negated ? "1 = 1" : "1 != 1";
    return;
  }
  operand(in.operand, prec_comparison + 1);
  out_.sql += in.negated ? " NOT IN (" : " IN (";
  if (in.subquery) {
    select(*in.subquery);
  } else {
    expr_list(in.items);
  }
  out_.sql += ')';
}

void Writer::visit(const BetweenExpr& b) {
  operand(b.operand, prec_comparison + 1);
  out_.sql += " BETWEEN ";
  operand(b.low, prec_comparison + 1);
  out_.sql += " AND ";
  operand(b.high, prec_comparison + 1);
}

void Writer::visit(const FunctionExpr& f) {
  if (!is_function_name(f.name)) {
    throw CompileError("invalid SQL function name '" + f.name +
                       "': expected a plain name such as count or lower");
  }
  if (f.distinct && f.args.empty()) {
    throw CompileError("function " + f.name + "(DISTINCT ...) needs at least one argument");
  }
  out_.sql += f.name;
  out_.sql += '(';
  if (f.distinct) out_.sql += "DISTINCT ";
  expr_list(f.args);
  out_.sql += ')';
}

void Writer::visit(const SubqueryExpr& s) {
  if (!s.select) throw CompileError("a subquery expression has no SELECT (null select)");
  out_.sql += '(';
  select(*s.select);
  out_.sql += ')';
}

void Writer::visit(const CastExpr& c) {
  if (c.of_integer_sum && d_.sum_of_integers_is_integer()) {
    node(checked(c.expr));
    return;
  }
  if (!is_type_name(c.type)) {
    throw CompileError("invalid type in CAST: '" + c.type +
                       "'; expected a plain SQL type name such as BIGINT or NUMERIC(10, 2)");
  }
  out_.sql += "CAST(";
  node(checked(c.expr));
  out_.sql += " AS ";
  out_.sql += c.type;
  out_.sql += ')';
}

void Writer::select(const Select& s) {
  if (s.columns.empty()) {
    throw CompileError("SELECT has no result columns; add at least one (raw(\"*\") for all)");
  }
  std::vector<Grouped> grouped = grouped_items(s);
  const std::size_t outer_grouped = grouped_.size();
  for (Grouped& g : grouped) grouped_.push_back(&g);
  out_.sql += s.distinct ? "SELECT DISTINCT " : "SELECT ";
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    if (i > 0) out_.sql += ", ";
    top_level(checked(s.columns[i]));
  }

  if (s.from_subquery) {
    if (!s.from.empty()) {
      throw CompileError("SELECT has both a FROM table '" + s.from +
                         "' and a FROM subquery; set only one");
    }
    if (s.from_alias.empty()) {
      throw CompileError("a subquery in FROM needs an alias (set Select::from_alias)");
    }
    out_.sql += " FROM (";
    select(*s.from_subquery);
    out_.sql += ") AS ";
    ident(s.from_alias, "an alias");
  } else if (!s.from.empty()) {
    out_.sql += " FROM ";
    table_ref(s.from, s.from_alias, "the FROM table");
  } else if (!s.joins.empty() || !s.from_alias.empty()) {
    throw CompileError("SELECT has a join or an alias but no FROM table");
  }

  for (const Join& j : s.joins) {
    if (!j.on) throw CompileError("JOIN to '" + j.table + "' has no ON condition");
    out_.sql += j.kind == JoinKind::left ? " LEFT OUTER JOIN " : " JOIN ";
    table_ref(j.table, j.alias, "a joined table");
    out_.sql += " ON ";
    node(*j.on);
  }

  where(s.where);

  if (!s.group_by.empty()) {
    out_.sql += " GROUP BY ";
    for (std::size_t i = 0; i < s.group_by.size(); ++i) {
      if (i > 0) out_.sql += ", ";
      sort_key(s.group_by[i], s.columns);
    }
  }
  if (s.having) {
    out_.sql += " HAVING ";
    node(*s.having);
  }
  if (!s.order_by.empty()) {
    out_.sql += " ORDER BY ";
    for (std::size_t i = 0; i < s.order_by.size(); ++i) {
      if (i > 0) out_.sql += ", ";
      sort_key(s.order_by[i].expr, s.columns);
      if (s.order_by[i].descending) out_.sql += " DESC";
    }
  }

  if ((s.limit && *s.limit < 0) || (s.offset && *s.offset < 0)) {
    throw CompileError("LIMIT and OFFSET must not be negative (got " +
                       (s.limit ? std::to_string(*s.limit) : std::string("none")) + " and " +
                       (s.offset ? std::to_string(*s.offset) : std::string("none")) + ")");
  }
  // Bound like every other value, in text order (a subquery's come before the outer
  // statement's later parameters): one statement text, so one prepared statement, serves
  // every page.
  if (s.limit) {
    out_.sql += " LIMIT ";
    next_placeholder(*s.limit);
  } else if (s.offset && !d_.no_limit().empty()) {
    out_.sql += " LIMIT ";
    out_.sql += d_.no_limit();
  }
  if (s.offset) {
    out_.sql += " OFFSET ";
    next_placeholder(*s.offset);
  }
  if (s.lock) lock(*s.lock);
  grouped_.resize(outer_grouped);
}

void Writer::lock(const RowLock& l) {
  if (l.nowait && l.skip_locked)
    throw CompileError("a row lock either fails at once (NOWAIT) or skips locked rows "
                       "(SKIP LOCKED), not both");
  if (!d_.supports_row_locks()) return;
  switch (l.strength) {
    case RowLock::Strength::update: out_.sql += " FOR UPDATE"; break;
    case RowLock::Strength::no_key_update: out_.sql += " FOR NO KEY UPDATE"; break;
    case RowLock::Strength::share: out_.sql += " FOR SHARE"; break;
    case RowLock::Strength::key_share: out_.sql += " FOR KEY SHARE"; break;
  }
  for (std::size_t i = 0; i < l.of.size(); ++i) {
    out_.sql += i == 0 ? " OF " : ", ";
    ident(l.of[i], "a locked table");
  }
  if (l.nowait) out_.sql += " NOWAIT";
  if (l.skip_locked) out_.sql += " SKIP LOCKED";
}

void Writer::insert(const Insert& s) {
  if (s.table.empty()) throw CompileError("INSERT has no table");
  const std::string subject = "INSERT INTO '" + s.table + "'";
  out_.sql += "INSERT INTO ";
  ident(s.table, "the INSERT table");
  if (s.default_values) {
    if (!s.columns.empty() || !s.rows.empty()) {
      throw CompileError(subject + " DEFAULT VALUES cannot also have columns or rows");
    }
    out_.sql += " DEFAULT VALUES";
  } else {
    if (s.columns.empty()) {
      throw CompileError(subject +
                         " has no columns; set default_values to insert a row of defaults");
    }
    if (s.rows.empty()) throw CompileError(subject + " has columns but no rows of values");
    out_.sql += " (";
    for (std::size_t i = 0; i < s.columns.size(); ++i) {
      if (i > 0) out_.sql += ", ";
      ident(s.columns[i], "an INSERT column");
    }
    out_.sql += ") VALUES ";
    for (std::size_t r = 0; r < s.rows.size(); ++r) {
      const auto& row = s.rows[r];
      if (row.size() != s.columns.size()) {
        throw CompileError(subject + ": row " + std::to_string(r + 1) + " has " +
                           std::to_string(row.size()) + " values for " +
                           std::to_string(s.columns.size()) + " columns");
      }
      if (r > 0) out_.sql += ", ";
      out_.sql += '(';
      expr_list(row);
      out_.sql += ')';
    }
  }
  returning(s.returning, "INSERT", s.table);
}

void Writer::update(const Update& s) {
  if (s.table.empty()) throw CompileError("UPDATE has no table");
  if (s.set.empty()) throw CompileError("UPDATE '" + s.table + "' has nothing to SET");
  out_.sql += "UPDATE ";
  ident(s.table, "the UPDATE table");
  out_.sql += " SET ";
  for (std::size_t i = 0; i < s.set.size(); ++i) {
    if (i > 0) out_.sql += ", ";
    ident(s.set[i].column, "an UPDATE SET column");
    out_.sql += " = ";
    node(checked(s.set[i].value));
  }
  where(s.where);
  returning(s.returning, "UPDATE", s.table);
}

void Writer::delete_(const Delete& s) {
  if (s.table.empty()) throw CompileError("DELETE has no table");
  out_.sql += "DELETE FROM ";
  ident(s.table, "the DELETE table");
  where(s.where);
  returning(s.returning, "DELETE", s.table);
}

}  // namespace

bool is_lower_identifier(std::string_view name) {
  if (name.empty()) return false;
  const char first = name.front();
  if (!(first == '_' || (first >= 'a' && first <= 'z'))) return false;
  for (const char c : name.substr(1)) {
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool SqlDialect::requires_quotes(std::string_view name) const {
  return !is_lower_identifier(name) || is_keyword(name);
}

std::string SqlDialect::quote(std::string_view name) const {
  if (!requires_quotes(name)) return std::string(name);
  std::string out;
  out.reserve(name.size() + 2);
  out += '"';
  for (const char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

Compiled compile(const Select& s, const SqlDialect& d) {
  Writer w(d);
  w.select(s);
  return std::move(w).take();
}

Compiled compile(const Insert& s, const SqlDialect& d) {
  Writer w(d);
  w.insert(s);
  return std::move(w).take();
}

Compiled compile(const Update& s, const SqlDialect& d) {
  Writer w(d);
  w.update(s);
  return std::move(w).take();
}

Compiled compile(const Delete& s, const SqlDialect& d) {
  Writer w(d);
  w.delete_(s);
  return std::move(w).take();
}

Compiled compile(const Expr& e, const SqlDialect& d) {
  Writer w(d);
  w.top_level(e);
  return std::move(w).take();
}

}  // namespace strata::sql
