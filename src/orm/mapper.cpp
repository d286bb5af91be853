// Mapper: checks a model's columns when it is built, and configure() resolves foreign keys
// and relationships against the other mappers and builds the model's schema::Table.
#include "strata/orm/mapper.hpp"

#include <set>

#include "strata/error.hpp"
#include "strata/orm/mapping.hpp"

namespace strata {

Cascade Cascade::parse(std::string_view text) {
  Cascade c;
  c.save_update = false;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto word = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
    if (word == "save-update") {
      c.save_update = true;
    } else if (word == "delete") {
      c.delete_ = true;
    } else if (word == "delete-orphan") {
      c.delete_orphan = true;
    } else if (word == "all") {
      c.save_update = c.delete_ = true;
    } else if (!word.empty()) {
      throw ArgumentError("cascade(\"" + std::string(word) +
                          "\"): unknown cascade; use save-update, delete, delete-orphan or all, "
                          "separated by commas");
    }
  }
  return c;
}

namespace detail {
void check_cascade(const RelationshipInfo& r, std::string_view owner) {
  const std::string what = "relationship " + std::string(owner) + "." + r.name + ": ";
  const char* kind = r.kind == RelationKind::many_to_one ? "a many-to-one (belongs_to)"
                                                          : "a many-to-many";
  if (r.cascade.delete_orphan && !fk_in_target(r.kind))
    throw ArgumentError(what + "delete-orphan cascade on " + kind +
                        " relationship; declare it on the one-to-many or one-to-one side "
                        "(has_many / has_one)");
  if (r.cascade.delete_ && r.kind == RelationKind::many_to_one)
    throw ArgumentError(what +
                        "delete cascade on a many-to-one (belongs_to) relationship would "
                        "delete the parent with a child; declare it on the parent's "
                        "has_many / has_one");
  if (r.passive_deletes && r.kind == RelationKind::many_to_one)
    throw ArgumentError(what +
                        "passive_deletes applies to has_many / has_one / many-to-many");
}
}  // namespace detail

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

// "table.column" -> {table, column}; empty when malformed.
std::pair<std::string, std::string> split_reference(const std::string& text) {
  auto dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) return {};
  return {text.substr(0, dot), text.substr(dot + 1)};
}

// Resolves a many-to-many relationship's association table: which column refers to which
// side, the columns they refer to, and the table's schema.
void configure_secondary(const Mapper& owner, RelationshipInfo& rel) {
  const Mapper& target = rel.target();
  const AssociationTable& a = *rel.secondary;
  const std::string what = "relationship " + owner.class_name + "." + rel.name + ": ";
  if (a.name.empty()) throw ArgumentError(what + "the association table has no name");
  if (a.left.name == a.right.name)
    throw ArgumentError(what + "association table '" + a.name + "' names column '" +
                        a.left.name + "' twice");
  const bool left_local = rel.local_column == a.left.name && rel.remote_column == a.right.name;
  const bool right_local = rel.local_column == a.right.name && rel.remote_column == a.left.name;
  if (!left_local && !right_local)
    throw ArgumentError(what + "secondary(" + a.name + ", \"" + rel.local_column + "\", \"" +
                        rel.remote_column + "\") must name the two columns of '" + a.name +
                        "' ('" + a.left.name + "', '" + a.right.name +
                        "'), the one referring to " + owner.class_name + " first");
  rel.local_is_left = left_local;
  const auto& local = left_local ? a.left : a.right;
  const auto& remote = left_local ? a.right : a.left;
  auto resolve = [&](const AssociationTable::Column& c, const Mapper& side) -> const ColumnInfo* {
    auto [table, column] = split_reference(c.references);
    if (table.empty())
      throw ArgumentError(what + "column '" + a.name + "." + c.name + "' references \"" +
                          c.references + "\"; expected \"table.column\"");
    if (table != side.table_name())
      throw ArgumentError(what + "column '" + a.name + "." + c.name + "' references '" + table +
                          "', but it must refer to " + side.class_name + " ('" +
                          side.table_name() + "')");
    const ColumnInfo* ref = side.find_column(column);
    if (!ref)
      throw ArgumentError(what + "column '" + a.name + "." + c.name + "' references '" +
                          c.references + "', which is not a mapped column of " + side.class_name);
    return ref;
  };
  rel.local_ref = resolve(local, owner);
  rel.remote_ref = resolve(remote, target);

  schema::Table t;
  t.name = a.name;
  for (const auto* c : {&a.left, &a.right}) {
    const ColumnInfo* ref = c == &local ? rel.local_ref : rel.remote_ref;
    schema::Column col;
    col.name = c->name;
    col.type = ref->column.type;
    col.nullable = false;
    col.primary_key = true;
    t.columns.push_back(col);
    t.primary_key.columns.push_back(c->name);
    schema::ForeignKey fk;
    fk.columns = {c->name};
    auto [table, column] = split_reference(c->references);
    fk.referred_table = table;
    fk.referred_columns = {column};
    fk.on_delete = c->on_delete;
    t.foreign_keys.push_back(std::move(fk));
  }
  rel.secondary_table = std::move(t);
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
    } else if (rel->kind == RelationKind::many_to_many) {
      configure_secondary(*this, *rel);
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
      const auto bk = rel->back->kind;
      const bool fits = rel->kind == RelationKind::many_to_many
                            ? bk == RelationKind::many_to_many
                            : rel->kind == RelationKind::many_to_one ? fk_in_target(bk)
                                                                     : bk == RelationKind::many_to_one;
      if (!fits)
        throw ArgumentError("relationship " + class_name + "." + rel->name +
                            ": back_populates must name " +
                            (rel->kind == RelationKind::many_to_many
                                 ? "a many-to-many relationship (has_many(...).secondary(...))"
                                 : rel->kind == RelationKind::many_to_one
                                       ? "a HasMany or HasOne member"
                                       : "a BelongsTo member") +
                            " of " + target.class_name);
      if (rel->kind == RelationKind::many_to_many &&
          (!rel->back->secondary || rel->back->secondary->name != rel->secondary->name ||
           rel->back->local_column != rel->remote_column ||
           rel->back->remote_column != rel->local_column))
        throw ArgumentError("relationship " + class_name + "." + rel->name + ": " +
                            target.class_name + "." + rel->back->name +
                            " must go through the same association table '" +
                            rel->secondary->name + "' with its columns the other way round");
    }
  }
}

}  // namespace strata
