// Mapper: checks a model's columns when it is built, and configure() resolves foreign keys
// and relationships against the other mappers and builds the model's schema::Table.
#include "strata/orm/mapper.hpp"

#include <set>

#include "strata/error.hpp"

namespace strata {

namespace {
bool is_integer(schema::TypeKind k) {
  return k == schema::TypeKind::integer || k == schema::TypeKind::big_integer ||
         k == schema::TypeKind::small_integer;
}

// Columns of `from` that reference `to`'s table (by mapper or by name).
std::vector<const ColumnInfo*> columns_referencing(const Mapper& from, const Mapper& to) {
  std::vector<const ColumnInfo*> out;
  for (const auto& c : from.columns) {
    if (!c->references) continue;
    const auto& r = *c->references;
    if (r.target_mapper ? &r.target_mapper() == &to : r.table == to.table_name())
      out.push_back(c.get());
  }
  return out;
}

// The foreign key behind a many-to-one relationship of `owner`, without configuring anything.
const ColumnInfo* many_to_one_fk(const Mapper& owner, const RelationshipInfo& rel) {
  const Mapper& target = rel.target();
  if (rel.fk_offset) {
    const ColumnInfo* c = owner.column_at(*rel.fk_offset);
    if (!c)
      throw ArgumentError("relationship " + owner.class_name + "." + rel.name +
                          ": its foreign_key is not a mapped column of " + owner.class_name);
    return c;
  }
  auto candidates = columns_referencing(owner, target);
  if (candidates.size() != 1)
    throw ArgumentError("relationship " + owner.class_name + "." + rel.name + ": " +
                        (candidates.empty() ? "no column of '" + owner.table_name() +
                                                  "' references '" + target.table_name() + "'"
                                            : "several columns of '" + owner.table_name() +
                                                  "' reference '" + target.table_name() + "'") +
                        "; name it: belongs_to(\"" + rel.name + "\", &Model::field, &Model::fk)");
  return candidates.front();
}
}  // namespace

const ColumnInfo* Mapper::column_at(std::size_t offset) const noexcept {
  for (const auto& c : columns)
    if (c->offset == offset) return c.get();
  return nullptr;
}

const ColumnInfo* Mapper::find_column(std::string_view name) const noexcept {
  for (const auto& c : columns)
    if (c->column.name == name) return c.get();
  return nullptr;
}

const RelationshipInfo* Mapper::relationship_at(std::size_t offset) const noexcept {
  for (const auto& r : relationships)
    if (r->field_offset == offset) return r.get();
  return nullptr;
}

void Mapper::finish_columns(const std::vector<std::optional<bool>>& autoincrement_requested) {
  if (table_name_.empty()) throw ArgumentError(class_name + ": the table name is empty");
  std::set<std::string> names;
  std::set<std::size_t> offsets;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    auto& c = *columns[i];
    c.index = i;
    c.qualified_name = table_name_ + "." + c.column.name;
    if (!names.insert(c.column.name).second)
      throw ArgumentError("model '" + class_name + "' maps column '" + c.column.name + "' twice");
    if (!offsets.insert(c.offset).second)
      throw ArgumentError("model '" + class_name + "' maps one member to two columns ('" +
                          c.column.name + "')");
    if (c.column.primary_key) primary_key.push_back(&c);
  }
  if (primary_key.empty())
    throw ArgumentError("model '" + class_name +
                        "' has no primary key; mark a column with .primary_key()");
  for (std::size_t i = 0; i < columns.size(); ++i) {
    auto& c = *columns[i];
    auto wanted = autoincrement_requested[i];
    bool possible = c.column.primary_key && primary_key.size() == 1 && is_integer(c.column.type.kind);
    if (wanted.value_or(possible) && !possible)
      throw ArgumentError("column '" + c.qualified_name +
                          "': autoincrement needs a single integer primary key");
    if (wanted.value_or(possible)) {
      c.column.autoincrement = true;
      autoincrement = &c;
    }
  }
}

void Mapper::configure() const {
  std::call_once(configured_, [this] { const_cast<Mapper*>(this)->do_configure(); });
}

void Mapper::do_configure() {
  schema::Table t;
  t.name = table_name_;
  for (const auto& c : columns) {
    t.columns.push_back(c->column);
    if (c->indexed) t.indexes.push_back({"", {c->column.name}, c->unique});
    else if (c->unique) t.uniques.push_back({"", {c->column.name}});
    if (c->references) {
      const auto& r = *c->references;
      schema::ForeignKey fk;
      fk.columns = {c->column.name};
      if (r.target_mapper) {
        const Mapper& target = r.target_mapper();
        const ColumnInfo* tc = target.column_at(r.target_offset);
        if (!tc)
          throw ArgumentError("column '" + c->qualified_name +
                              "' references a member that is not a mapped column of " +
                              target.class_name);
        fk.referred_table = target.table_name();
        fk.referred_columns = {tc->column.name};
      } else {
        fk.referred_table = r.table;
        fk.referred_columns = {r.column};
      }
      fk.on_delete = r.on_delete;
      fk.on_update = r.on_update;
      t.foreign_keys.push_back(std::move(fk));
    }
  }
  for (const auto* k : primary_key) t.primary_key.columns.push_back(k->column.name);
  for (const auto& arg : table_args) {
    std::vector<std::string> cols;
    for (auto off : arg.offsets) {
      const ColumnInfo* c = column_at(off);
      if (!c)
        throw ArgumentError("model '" + class_name +
                            "': a table constraint names a member that is not a mapped column");
      cols.push_back(c->column.name);
    }
    switch (arg.kind) {
      case TableArg::Kind::unique: t.uniques.push_back({arg.name, cols}); break;
      case TableArg::Kind::index: t.indexes.push_back({arg.name, cols, false}); break;
      case TableArg::Kind::unique_index: t.indexes.push_back({arg.name, cols, true}); break;
      case TableArg::Kind::check: t.checks.push_back({arg.name, arg.sqltext}); break;
    }
  }
  schema::NamingConvention{}.apply(t);
  table_ = std::move(t);

  for (auto& rel : relationships) {
    rel->owner = this;
    const Mapper& target = rel->target();
    if (rel->kind == RelationKind::many_to_one) {
      rel->fk = many_to_one_fk(*this, *rel);
    } else if (rel->fk_offset) {
      rel->fk = target.column_at(*rel->fk_offset);
      if (!rel->fk)
        throw ArgumentError("relationship " + class_name + "." + rel->name +
                            ": its foreign_key is not a mapped column of " + target.class_name);
    } else if (rel->back_offset) {
      const RelationshipInfo* back = target.relationship_at(*rel->back_offset);
      if (!back || back->kind != RelationKind::many_to_one)
        throw ArgumentError("relationship " + class_name + "." + rel->name +
                            ": back_populates must name a BelongsTo member of " +
                            target.class_name);
      rel->fk = many_to_one_fk(target, *back);
    } else {
      auto candidates = columns_referencing(target, *this);
      if (candidates.size() != 1)
        throw ArgumentError("relationship " + class_name + "." + rel->name +
                            ": cannot tell which column of '" + target.table_name() +
                            "' refers to '" + table_name_ +
                            "'; add .foreign_key(&Model::column) or .back_populates(...)");
      rel->fk = candidates.front();
    }
    if (rel->back_offset) {
      rel->back = target.relationship_at(*rel->back_offset);
      if (!rel->back)
        throw ArgumentError("relationship " + class_name + "." + rel->name +
                            ": back_populates names a member that is not a relationship of " +
                            target.class_name);
    }
  }
}

}  // namespace strata
