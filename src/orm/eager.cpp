// Loading strategies (see eager.hpp): a query's plan of strategies, the joined loader (one
// SELECT with LEFT OUTER JOINs, the parents wrapped in a subquery when a LIMIT / OFFSET must
// count parents rather than joined rows), the selectin loader (one more SELECT per
// relationship, WHERE key IN (...) in chunks), and the loader options' raise flags.
#include "eager.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "strata/error.hpp"
#include "strata/orm/loader_options.hpp"
#include "strata/sql/compiler.hpp"

#include "database_core.hpp"
#include "session_internal.hpp"

namespace strata::detail {

namespace {

// The two questions the loaders ask of a relationship's kind (a many-to-many is a collection
// reached through its secondary table, in related_rows and related_joins):
// whether it holds many items,
bool is_collection(const RelationshipInfo& rel) {
  return rel.kind == RelationKind::one_to_many || rel.kind == RelationKind::many_to_many;
}
// and whether its foreign key sits in the target's table, referring to the owner.
bool fk_on_target(const RelationshipInfo& rel) { return fk_in_target(rel.kind); }

// expr with every column of `table` read from `alias` instead: the parents' ORDER BY, moved
// out of the subquery that wraps them.
sql::ExprPtr retarget(const sql::ExprPtr& expr, const std::string& table,
                      const std::string& alias) {
  if (!expr) return expr;
  auto again = [&](const sql::ExprPtr& e) { return retarget(e, table, alias); };
  return std::visit(
      [&](const auto& n) -> sql::ExprPtr {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, sql::ColumnExpr>) {
          return n.table == table ? sql::column(alias, n.name) : expr;
        } else if constexpr (std::is_same_v<N, sql::BinaryExpr>) {
          return n.escape != 0 ? sql::like(n.op, again(n.left), again(n.right), n.escape)
                               : sql::binary(n.op, again(n.left), again(n.right));
        } else if constexpr (std::is_same_v<N, sql::UnaryExpr>) {
          return sql::unary(n.op, again(n.operand));
        } else if constexpr (std::is_same_v<N, sql::FunctionExpr>) {
          std::vector<sql::ExprPtr> args;
          for (const auto& a : n.args) args.push_back(again(a));
          return sql::function(n.name, std::move(args), n.distinct);
        } else if constexpr (std::is_same_v<N, sql::BetweenExpr>) {
          return sql::between(again(n.operand), again(n.low), again(n.high));
        } else if constexpr (std::is_same_v<N, sql::InExpr>) {
          if (n.subquery) return sql::in(again(n.operand), n.subquery, n.negated);
          std::vector<sql::ExprPtr> items;
          for (const auto& i : n.items) items.push_back(again(i));
          return sql::in(again(n.operand), std::move(items), n.negated);
        } else if constexpr (std::is_same_v<N, sql::LabelExpr>) {
          return sql::label(again(n.expr), n.alias);
        } else {
          return expr;  // parameters, raw SQL, subqueries: as they are
        }
      },
      expr->node);
}

// Whether retarget() can move expr out of the subquery that wraps the parents: it reads
// columns of `table` only, through operators and functions. A column of a joined table, a
// subquery (perhaps correlated with `table`) or a cast is left to the subquery to select.
bool reads_only(const sql::ExprPtr& expr, const std::string& table) {
  if (!expr) return true;
  auto again = [&](const sql::ExprPtr& e) { return reads_only(e, table); };
  return std::visit(
      [&](const auto& n) -> bool {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, sql::ColumnExpr>) {
          return n.table == table;
        } else if constexpr (std::is_same_v<N, sql::BinaryExpr>) {
          return again(n.left) && again(n.right);
        } else if constexpr (std::is_same_v<N, sql::UnaryExpr>) {
          return again(n.operand);
        } else if constexpr (std::is_same_v<N, sql::FunctionExpr>) {
          return std::all_of(n.args.begin(), n.args.end(), again);
        } else if constexpr (std::is_same_v<N, sql::BetweenExpr>) {
          return again(n.operand) && again(n.low) && again(n.high);
        } else if constexpr (std::is_same_v<N, sql::InExpr>) {
          return !n.subquery && again(n.operand) &&
                 std::all_of(n.items.begin(), n.items.end(), again);
        } else if constexpr (std::is_same_v<N, sql::LabelExpr>) {
          return again(n.expr);
        } else if constexpr (std::is_same_v<N, sql::SubqueryExpr> ||
                             std::is_same_v<N, sql::CastExpr>) {
          return false;
        } else {
          return true;  // parameters, raw SQL
        }
      },
      expr->node);
}

// Whether the target's columns starting at `first` are all NULL in the current row: the
// LEFT OUTER JOIN found no related row.
bool no_related_row(const Mapper& target, const engine::Statement& s, int first) {
  for (const auto* k : target.primary_key)
    if (!s.is_null(first + static_cast<int>(k->index))) return false;
  return true;
}

}  // namespace

// ---- the shape of a relationship in SQL ---------------------------------------------------

RelatedRows related_rows(const RelationshipInfo& rel, std::span<const Value> keys) {
  const Mapper& target = rel.target();
  const std::string& table = target.table_name();
  RelatedRows out;
  for (const auto& c : target.columns)
    out.select.columns.push_back(sql::column(table, c->column.name));
  out.select.from = table;
  std::vector<sql::ExprPtr> items;
  items.reserve(keys.size());
  for (const auto& k : keys) items.push_back(sql::param(k));
  if (rel.kind == RelationKind::many_to_many) {
    // Through the association table: its owner-side column is the link, read after the
    // target's columns.
    const std::string& link = rel.secondary->name;
    out.select.joins.push_back(sql::Join{
        sql::JoinKind::inner, link, {},
        sql::binary(sql::BinaryOp::eq, sql::column(table, rel.remote_ref->column.name),
                    sql::column(link, rel.remote_column))});
    out.select.columns.push_back(sql::column(link, rel.local_column));
    out.link_column = static_cast<int>(target.columns.size());
    out.select.where = sql::in(sql::column(link, rel.local_column), std::move(items));
    for (const auto* k : target.primary_key)
      out.select.order_by.push_back({sql::column(table, k->column.name), false});
    return out;
  }
  // one-to-many: the target's foreign key holds the owner's key; many-to-one: the owner's
  // foreign key holds the target's referenced column.
  const ColumnInfo& link = fk_on_target(rel) ? *rel.fk : referenced_column(*rel.fk, target);
  out.link_column = static_cast<int>(link.index);
  out.select.where = sql::in(sql::column(table, link.column.name), std::move(items));
  if (is_collection(rel))  // the order of a lazy load (MapperSql::select_by)
    for (const auto* k : target.primary_key)
      out.select.order_by.push_back({sql::column(table, k->column.name), false});
  return out;
}

// The owner's column whose value links it to its related rows, and that value.
const ColumnInfo& owner_link_column(const RelationshipInfo& rel) {
  if (rel.kind == RelationKind::many_to_many) return *rel.local_ref;
  if (fk_on_target(rel)) return referenced_column(*rel.fk, *rel.owner);
  return *rel.fk;
}
Value owner_link_value(const RelationshipInfo& rel, const void* owner) {
  return owner_link_column(rel).get(owner);
}

std::vector<sql::Join> related_joins(const RelationshipInfo& rel, const std::string& owner,
                                     const std::string& alias) {
  const Mapper& target = rel.target();
  sql::Join j;
  j.kind = sql::JoinKind::left;
  j.table = target.table_name();
  j.alias = alias;
  if (rel.kind == RelationKind::many_to_many) {
    // owner -> association row (under <alias>_<table>) -> target.
    sql::Join link;
    link.kind = sql::JoinKind::left;
    link.table = rel.secondary->name;
    link.alias = alias + "_" + rel.secondary->name;
    link.on = sql::binary(sql::BinaryOp::eq, sql::column(link.alias, rel.local_column),
                          sql::column(owner, rel.local_ref->column.name));
    j.on = sql::binary(sql::BinaryOp::eq, sql::column(alias, rel.remote_ref->column.name),
                       sql::column(link.alias, rel.remote_column));
    return {std::move(link), std::move(j)};
  }
  if (fk_on_target(rel)) {
    const ColumnInfo& ref = referenced_column(*rel.fk, *rel.owner);
    j.on = sql::binary(sql::BinaryOp::eq, sql::column(owner, ref.column.name),
                       sql::column(alias, rel.fk->column.name));
  } else {
    const ColumnInfo& ref = referenced_column(*rel.fk, target);
    j.on = sql::binary(sql::BinaryOp::eq, sql::column(alias, ref.column.name),
                       sql::column(owner, rel.fk->column.name));
  }
  return {std::move(j)};
}

// ---- the plan -----------------------------------------------------------------------------

bool EagerLoader::eager_by_default(const Mapper& m) {
  for (const auto& rel : m.relationships)
    if (rel->lazy == Loading::joined || rel->lazy == Loading::selectin) return true;
  return false;
}

bool EagerLoader::applies(const Mapper& m, const QuerySpec& q) {
  return !q.load.empty() || eager_by_default(m);
}

RelationshipLoad EagerLoader::checked(const Mapper& m, RelationshipLoad option) {
  if (!m.relationship_at(option.field_offset))
    throw ArgumentError("options(): the member is not a relationship of " + m.class_name +
                        "; declare it in Model<" + m.class_name +
                        ">::columns() with has_many(...) or belongs_to(...)");
  return option;
}

RelationshipLoad check_load_option(const Mapper& m, RelationshipLoad option) {
  return EagerLoader::checked(m, option);
}

EagerLoader::EagerLoader(SessionCore& session, const Mapper& m, const QuerySpec& q)
    : session_(session), mapper_(m), query_(q) {
  m.configure();
  for (const auto& rel : m.relationships) {
    Planned p{rel.get(), rel->lazy, false};
    for (const auto& o : q.load)  // the last option for a relationship wins
      if (o.field_offset == rel->field_offset) p = {rel.get(), o.strategy, true};
    if (p.from_query || p.strategy == Loading::joined || p.strategy == Loading::selectin)
      plan_.push_back(p);
  }
}

std::vector<std::shared_ptr<void>> EagerLoader::run() {
  std::vector<const RelationshipInfo*> joined;
  std::vector<const RelationshipInfo*> selectin;
  for (const auto& p : plan_) {
    p.rel->target().configure();
    if (p.strategy == Loading::joined) joined.push_back(p.rel);
    if (p.strategy == Loading::selectin) selectin.push_back(p.rel);
  }
  auto objects = joined.empty() ? load_plain() : load_joined(joined);
  for (const auto* rel : selectin) load_selectin(*rel, objects);
  // lazyload() / raiseload(): how the objects' relationships that are still unloaded behave
  // on access.
  for (const auto& p : plan_) {
    if (!p.from_query || (p.strategy != Loading::select && p.strategy != Loading::raise)) continue;
    for (const auto& obj : objects) {
      auto& f = p.rel->field(obj.get());
      if (!SessionAccess::loaded(f)) SessionAccess::raise(f) = p.strategy == Loading::raise;
    }
  }
  return objects;
}

std::vector<std::shared_ptr<void>> EagerLoader::load_plain() {
  auto compiled =
      sql::compile(Loader::select_for(session_, mapper_, query_), session_.dialect_for(mapper_));
  auto stmt = session_.connection(mapper_).prepare_cached(compiled.sql);
  stmt->bind_all(compiled.params);
  std::vector<std::shared_ptr<void>> out;
  while (stmt->step())
    out.push_back(Loader::load_row(session_, mapper_, *stmt, 0, populate()));
  return out;
}

// SELECT <parent columns>, <target columns per relationship> FROM <parent>
//   LEFT OUTER JOIN <target> AS <target>_1 ON ... [ ... ] WHERE ... ORDER BY ...
// The parents' own query becomes a subquery (anon_1) that the joins hang off, and the outer
// ORDER BY repeats the parents' order, where the joined rows would change what it returns:
// with a LIMIT or OFFSET and a collection among the relationships (the limit must count
// parents, not joined rows), and with a GROUP BY or HAVING (one group per parent would fold
// a collection into one row on SQLite; PostgreSQL refuses the target's ungrouped columns).
std::vector<std::shared_ptr<void>> EagerLoader::load_joined(
    const std::vector<const RelationshipInfo*>& rels) {
  const Mapper& m = mapper_;
  const bool collections =
      std::any_of(rels.begin(), rels.end(), [](const auto* r) { return is_collection(*r); });
  const bool grouped = !query_.group_by.empty() || query_.having;
  const bool wrap = grouped || (collections && (query_.limit || query_.offset));
  const std::string parent = wrap ? std::string("anon_1") : m.table_name();

  // The rows locked are the query's own (its model's, its inner joins'), not those the eager
  // loads join: PostgreSQL refuses to lock the nullable side of an outer join.
  auto own_rows_only = [&](std::optional<sql::RowLock>& lock) {
    if (!lock || !lock->of.empty()) return;
    lock->of.push_back(m.table_name());
    for (const auto& j : query_.joins)
      if (j.kind == sql::JoinKind::inner) lock->of.push_back(j.alias.empty() ? j.table : j.alias);
  };
  sql::Select s;
  if (wrap) {
    auto parents = std::make_shared<sql::Select>(Loader::select_for(session_, m, query_));
    own_rows_only(parents->lock);
    for (const auto& c : m.columns) s.columns.push_back(sql::column(parent, c->column.name));
    // An ORDER BY item that the outer query cannot read (a joined model's column, a
    // subquery; in a grouped query anything but a parent's column, which may be an
    // aggregate) is selected by the subquery under a name, and the outer query orders by it.
    int hidden = 0;
    for (const auto& o : query_.order_by) {
      const auto* column = o.expr ? std::get_if<sql::ColumnExpr>(&o.expr->node) : nullptr;
      const bool movable = grouped ? column && column->table == m.table_name()
                                   : reads_only(o.expr, m.table_name());
      if (movable) {
        s.order_by.push_back({retarget(o.expr, m.table_name(), parent), o.descending});
        continue;
      }
      // Selected by a DISTINCT subquery, it would be distinct by that value too: a parent
      // could come back once per value, and the limit count it so. PostgreSQL refuses such
      // an order in the query without eager loading too.
      if (query_.distinct)
        throw ArgumentError(
            "distinct() with joinedload() and limit(), offset(), group_by() or having() can "
            "order only by columns of " + m.class_name +
            ": another model's column would have to be selected with the parents, and the "
            "rows would then be distinct by it too; order by " + m.class_name +
            "'s columns, or load the relationship with selectinload()");
      const std::string name = "anon_order_" + std::to_string(++hidden);
      parents->columns.push_back(sql::label(o.expr, name));
      s.order_by.push_back({sql::column(parent, name), o.descending});
    }
    s.from_subquery = std::move(parents);
    s.from_alias = parent;
  } else {
    s = Loader::select_for(session_, m, query_);
    own_rows_only(s.lock);
  }

  std::vector<int> first_column;
  std::map<std::string, int> aliases_of;  // target table -> aliases handed out
  std::vector<std::string> aliases;
  // A name the statement already uses: the parents', or a join's (the query's own joins may
  // be under aliases of the user's choosing, such as post_1).
  auto taken = [&s, &parent](const std::string& name) {
    return name == parent || std::any_of(s.joins.begin(), s.joins.end(), [&](const auto& j) {
             return (j.alias.empty() ? j.table : j.alias) == name;
           });
  };
  int next = static_cast<int>(m.columns.size());
  for (const auto* rel : rels) {
    const Mapper& target = rel->target();
    std::string alias;
    do {
      alias = target.table_name() + "_" + std::to_string(++aliases_of[target.table_name()]);
    } while (taken(alias) || (rel->kind == RelationKind::many_to_many &&
                              taken(alias + "_" + rel->secondary->name)));
    for (const auto& c : target.columns) s.columns.push_back(sql::column(alias, c->column.name));
    for (auto& j : related_joins(*rel, parent, alias)) s.joins.push_back(std::move(j));
    first_column.push_back(next);
    next += static_cast<int>(target.columns.size());
    aliases.push_back(std::move(alias));
  }
  if (collections) {
    // Each parent's rows together, each collection in key order (as a lazy load has it).
    for (const auto* k : m.primary_key)
      s.order_by.push_back({sql::column(parent, k->column.name), false});
    for (std::size_t i = 0; i < rels.size(); ++i)
      if (is_collection(*rels[i]))
        for (const auto* k : rels[i]->target().primary_key)
          s.order_by.push_back({sql::column(aliases[i], k->column.name), false});
  }

  auto compiled = sql::compile(s, session_.dialect_for(mapper_));
  auto stmt = session_.connection(mapper_).prepare_cached(compiled.sql);
  stmt->bind_all(compiled.params);

  // What each parent's relationships receive, parent after parent: rels.size() entries each.
  struct Found {
    bool wanted = false;  // the field was unloaded: fill it (never overwrite a loaded one)
    std::vector<std::shared_ptr<void>> items;
    std::unordered_set<const void*> seen;  // a collection repeated by another join's rows
  };
  std::vector<std::shared_ptr<void>> parents;
  std::unordered_map<const void*, std::size_t> position;
  std::vector<Found> found;
  const std::size_t n = rels.size();
  while (stmt->step()) {
    auto obj = Loader::load_row(session_, m, *stmt, 0, populate());
    auto [it, fresh] = position.try_emplace(obj.get(), parents.size());
    if (fresh) {
      for (const auto* rel : rels)
        found.push_back(
            {.wanted = !SessionAccess::loaded(rel->field(obj.get())), .items = {}, .seen = {}});
      parents.push_back(std::move(obj));
    }
    for (std::size_t i = 0; i < n; ++i) {
      auto& f = found[it->second * n + i];
      const Mapper& target = rels[i]->target();
      if (!f.wanted || no_related_row(target, *stmt, first_column[i])) continue;
      auto item =
          Loader::load_row(session_, target, *stmt, first_column[i], populate());
      if (f.seen.insert(item.get()).second) f.items.push_back(std::move(item));
    }
  }
  stmt = {};
  for (std::size_t p = 0; p < parents.size(); ++p)
    for (std::size_t i = 0; i < n; ++i)
      if (found[p * n + i].wanted) fill(*rels[i], parents[p], std::move(found[p * n + i].items));
  return parents;
}

// SELECT <target columns> FROM <target> WHERE <link> IN (<the owners' values>), 500 values a
// statement; then every owner whose field was unloaded gets its rows (none: an empty
// collection or a null target, loaded all the same). A many-to-one target the identity map
// already holds is taken from it, without SQL.
void EagerLoader::load_selectin(const RelationshipInfo& rel,
                                const std::vector<std::shared_ptr<void>>& owners) {
  const Mapper& target = rel.target();
  const ColumnInfo* by_key = nullptr;  // many-to-one to the target's primary key
  if (!fk_on_target(rel) && !is_collection(rel) && target.primary_key.size() == 1 &&
      &referenced_column(*rel.fk, target) == target.primary_key.front())
    by_key = target.primary_key.front();

  std::map<Value, std::vector<const std::shared_ptr<void>*>, ValueLess> waiting;
  std::vector<Value> keys;
  for (const auto& owner : owners) {
    if (SessionAccess::loaded(rel.field(owner.get()))) continue;
    Value v = owner_link_value(rel, owner.get());
    if (is_null(v)) {
      fill(rel, owner, {});
      continue;
    }
    if (by_key) {
      auto* st = query_.populate_existing ? nullptr : session_.identity_.find(&target, v);
      if (st) {
        fill(rel, owner, {st->obj});
        continue;
      }
    }
    auto [it, fresh] = waiting.try_emplace(v);
    if (fresh) keys.push_back(v);
    it->second.push_back(&owner);
  }
  if (keys.empty()) return;

  // The rows' link values in owner_link_value()'s form (PostgreSQL spells a timestamp
  // otherwise than strata writes it).
  const ColumnInfo& link = owner_link_column(rel);
  std::map<Value, std::vector<std::shared_ptr<void>>, ValueLess> related;
  for (std::size_t from = 0; from < keys.size(); from += selectin_chunk) {
    auto chunk =
        std::span<const Value>(keys).subspan(from, std::min(selectin_chunk, keys.size() - from));
    auto rows = related_rows(rel, chunk);
    auto compiled = sql::compile(rows.select, session_.dialect_for(rel.target()));
    auto stmt = session_.connection(rel.target()).prepare_cached(compiled.sql);
    stmt->bind_all(compiled.params);
    while (stmt->step()) {
      auto obj = Loader::load_row(session_, target, *stmt, 0, populate());
      related[link.row_value(*stmt, rows.link_column)].push_back(std::move(obj));
    }
  }
  for (auto& [v, list] : waiting) {
    auto it = related.find(v);
    for (const auto* owner : list)
      fill(rel, *owner, it == related.end() ? std::vector<std::shared_ptr<void>>{} : it->second);
  }
}

void EagerLoader::fill(const RelationshipInfo& rel, const std::shared_ptr<void>& owner,
                       std::vector<std::shared_ptr<void>> items) {
  if (rel.kind == RelationKind::one_to_one) check_one(rel, owner.get(), items.size());
  if (fk_on_target(rel) && rel.back)  // each item's many-to-one back to owner
    for (const auto& item : items)
      if (rel.back->current(item.get()).empty()) rel.back->set_target(item.get(), owner, false);
  rel.set_loaded(owner.get(), std::move(items));
}

}  // namespace strata::detail
