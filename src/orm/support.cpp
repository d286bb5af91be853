// Small out-of-line pieces of the ORM's headers: value errors with column names, identity
// key hashing, column lookup for expressions, raw result rows.
#include <functional>
#include <string>

#include "strata/orm/expression.hpp"
#include "strata/orm/result.hpp"
#include "strata/orm/session_core.hpp"
#include "strata/orm/types.hpp"

namespace strata {
namespace detail {

std::string_view storage_name(const Value& v) {
  switch (v.index()) {
    case 0: return "NULL";
    case 1: return "an integer";
    case 2: return "a real number";
    case 3: return "text";
    default: return "a blob";
  }
}

void throw_value_error(std::string_view expected, const Value& got) {
  std::string shown = to_display(got);
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  throw DataError("expected " + std::string(expected) + ", got " + std::string(storage_name(got)) +
                      " " + shown,
                  {});
}

void throw_range_error(std::string_view type_name, std::int64_t got) {
  throw DataError("value " + std::to_string(got) + " does not fit " + std::string(type_name), {});
}

void expect_storage(const engine::Statement& s, int i, engine::StorageClass want,
                    std::string_view expected) {
  if (s.storage_class(i) != want) throw_value_error(expected, s.get_value(i));
}

void throw_load_error(const ColumnInfo& c, const std::exception& e) {
  throw DataError("cannot load column '" + c.qualified_name + "': " + e.what(), {});
}

void throw_null_error(const ColumnInfo& c) {
  throw DataError("column '" + c.qualified_name +
                      "' is NULL but its field is not std::optional; make the member "
                      "std::optional or the column NOT NULL",
                  {});
}

namespace {
std::size_t identity_hash(const Mapper* m, const Value& key) noexcept {
  std::size_t h = std::hash<const void*>()(m);
  std::size_t v = 0;
  if (auto* i = std::get_if<std::int64_t>(&key)) v = std::hash<std::int64_t>()(*i);
  else if (auto* s = std::get_if<std::string>(&key)) v = std::hash<std::string>()(*s);
  else if (auto* d = std::get_if<double>(&key)) v = std::hash<double>()(*d);
  return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}
}  // namespace

std::size_t IdentityMap::Hash::operator()(const InstanceState* s) const noexcept {
  return identity_hash(s->mapper, s->key);
}
std::size_t IdentityMap::Hash::operator()(const Ref& r) const noexcept {
  return identity_hash(r.mapper, *r.key);
}
bool IdentityMap::Eq::operator()(const InstanceState* a, const InstanceState* b) const noexcept {
  return a->mapper == b->mapper && a->key == b->key;
}
bool IdentityMap::Eq::operator()(const Ref& a, const InstanceState* b) const noexcept {
  return a.mapper == b->mapper && *a.key == b->key;
}
bool IdentityMap::Eq::operator()(const InstanceState* a, const Ref& b) const noexcept {
  return a->mapper == b.mapper && a->key == *b.key;
}

InstanceState* IdentityMap::find(const Mapper* m, const Value& key) const {
  auto it = set_.find(Ref{m, &key});
  return it == set_.end() ? nullptr : *it;
}

void IdentityMap::put(InstanceState* s) {
  auto [it, inserted] = set_.insert(s);
  if (!inserted && *it != s) {
    set_.erase(it);
    set_.insert(s);
  }
}

void IdentityMap::erase(const Mapper* m, const Value& key) {
  auto it = set_.find(Ref{m, &key});
  if (it != set_.end()) set_.erase(it);
}

void IdentityMap::erase_if_is(InstanceState* s) {
  auto it = set_.find(s);
  if (it != set_.end() && *it == s) set_.erase(it);
}

bool IdentityMap::holds(const Mapper* m) const {
  for (const auto* s : set_)
    if (s->mapper == m) return true;
  return false;
}

sql::ExprPtr column_expr(const Mapper& m, std::size_t offset, const char* context,
                         const std::string& table) {
  const ColumnInfo* c = m.column_at(offset);
  if (!c)
    throw ArgumentError(std::string(context) + "(): the member is not a mapped column of " +
                        m.class_name + "; add it to Model<...>::columns()");
  return sql::column(table.empty() ? m.table_name() : table, c->column.name);
}

}  // namespace detail

std::size_t Row::index_of(std::string_view name) const {
  for (std::size_t i = 0; i < names_->size(); ++i)
    if ((*names_)[i] == name) return i;
  std::string known;
  for (const auto& n : *names_) known += (known.empty() ? "" : ", ") + n;
  throw ArgumentError("result has no column '" + std::string(name) + "' (columns: " + known + ")");
}

void Row::throw_convert(std::size_t i, const std::exception& e) const {
  throw DataError("result column '" + (*names_)[i] + "': " + e.what(), {});
}

}  // namespace strata
