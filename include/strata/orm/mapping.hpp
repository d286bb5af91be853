// Declaring a model: one specialization of strata::Model<T> next to the struct.
//
//   template <> struct strata::Model<User> {
//     static constexpr auto table = "user";
//     static auto columns() {
//       using namespace strata;
//       return mapping(column("id", &User::id).primary_key(),
//                      column("username", &User::username).length(64).unique().index(),
//                      has_many("posts", &User::posts).back_populates(&Post::author));
//     }
//   };
//
// The builders here are thin: each turns a member pointer into a small virtual accessor
// (TypedColumn, TypedRelationship) and everything else is plain data in the Mapper.
// Declare a mapping after every struct it names (member pointers need complete types).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "strata/error.hpp"
#include "strata/orm/mapper.hpp"
#include "strata/orm/object_block.hpp"
#include "strata/orm/relationship.hpp"
#include "strata/orm/session_core.hpp"
#include "strata/orm/types.hpp"

namespace strata {

// Specialize for each model: `static constexpr auto table = "name";` and
// `static auto columns() { return mapping(...); }`.
template <class T>
struct Model;

namespace detail {

// A default-constructed instance, used to find where members sit.
template <class T>
const T& prototype() {
  static const T p{};
  return p;
}

template <class T, class M>
std::size_t offset_of(M T::*member) {
  const T& p = prototype<T>();
  return static_cast<std::size_t>(reinterpret_cast<const char*>(std::addressof(p.*member)) -
                                  reinterpret_cast<const char*>(std::addressof(p)));
}

template <class F>
struct relation_target;
template <class U>
struct relation_target<BelongsTo<U>> {
  using type = U;
  static constexpr RelationKind kind = RelationKind::many_to_one;
};
template <class U>
struct relation_target<HasMany<U>> {
  using type = U;
  static constexpr RelationKind kind = RelationKind::one_to_many;  // many_to_many with secondary
};
template <class U>
struct relation_target<HasOne<U>> {
  using type = U;
  static constexpr RelationKind kind = RelationKind::one_to_one;
};

[[noreturn]] void throw_load_error(const ColumnInfo& c, const std::exception& e);
[[noreturn]] void throw_store_error(const ColumnInfo& c, const std::exception& e);
[[noreturn]] void throw_null_error(const ColumnInfo& c);
// Throws ArgumentError for a cascade the relationship's kind cannot have (delete-orphan on
// a many-to-one or many-to-many relationship, delete on a many-to-one one).
void check_cascade(const RelationshipInfo& r, std::string_view owner);

// Reaches the private parts of relationship fields for the session and the accessors.
struct SessionAccess {
  static InstanceState*& owner(RelationField& f) { return f.owner_; }
  static const RelationshipInfo*& rel(RelationField& f) { return f.rel_; }
  static bool& changed(RelationField& f) { return f.changed_; }
  static bool& loaded(RelationField& f) { return f.loaded_; }
  static bool& raise(RelationField& f) { return f.raise_; }
  template <class U>
  static std::shared_ptr<U>& target(BelongsTo<U>& f) {
    return f.target_;
  }
  template <class U>
  static std::shared_ptr<U>& target(HasOne<U>& f) {
    return f.target_;
  }
  // A collection's items, to change as the caller likes: the set of their addresses is
  // dropped (see HasMany::holds). held() reads them; add() and remove() keep the set.
  template <class U>
  static std::vector<std::shared_ptr<U>>& items(HasMany<U>& f) {
    f.index_.reset();
    return f.items_;
  }
  template <class U>
  static const std::vector<std::shared_ptr<U>>& held(const HasMany<U>& f) {
    return f.items_;
  }
  template <class U>
  static bool holds(const HasMany<U>& f, const void* item) {
    return f.holds(static_cast<const U*>(item));
  }
  template <class U>
  static void add(HasMany<U>& f, std::shared_ptr<U> item) {  // a no-op when held
    if (!f.holds(item.get())) f.push(std::move(item));
  }
  template <class U>
  static void remove(HasMany<U>& f, const void* item) {
    if (std::erase_if(f.items_, [item](const auto& p) { return p.get() == item; }) && f.index_)
      f.index_->erase(static_cast<const U*>(item));
  }
  // Removes every item whose address is among `gone`, in one pass.
  template <class U>
  static void remove(HasMany<U>& f, const std::unordered_set<const void*>& gone) {
    if (std::erase_if(f.items_, [&gone](const auto& p) { return gone.contains(p.get()); }))
      f.index_.reset();
  }
};

}  // namespace detail

template <class T>
const Mapper& mapper_of();

// A mapped column of T held in a member of type M.
template <class T, class M>
class TypedColumn final : public ColumnInfo {
 public:
  using B = detail::base_t<M>;
  static constexpr bool optional = detail::is_optional_v<M>;
  static_assert(!detail::character<B> || detail::has_type_mapping<B>,
                "strata: a char member is neither a number nor text to strata; use std::string "
                "for text, or std::int8_t / std::uint8_t for a small number");
  static_assert(detail::has_type_mapping<B> || detail::character<B>,
                "strata: this member's type has no strata::Type<> mapping; map it by "
                "specializing strata::Type<YourType> (see strata/orm/types.hpp)");

  explicit TypedColumn(M T::*member) : member_(member) {}

  void bind(const void* obj, engine::Statement& s, int i) const override {
    const M& v = static_cast<const T*>(obj)->*member_;
    if constexpr (optional) {
      if (!v) return s.bind_null(i);
      validate(*v);
      Type<B>::bind(s, i, *v);
    } else {
      validate(v);
      Type<B>::bind(s, i, v);
    }
  }
  // A type that can hold values it cannot store (Date, Time, DateTime) says so here, with the
  // column's name, rather than the database storing what never loads again.
  void validate(const B& v) const {
    if constexpr (requires { Type<B>::validate(v); }) {
      try {
        Type<B>::validate(v);
      } catch (const DataError& e) {
        detail::throw_store_error(*this, e);
      }
    }
  }
  void load(void* obj, const engine::Statement& s, int i) const override {
    load_from(obj, ref_of(s, i), s, i);
  }
  void load_with_snapshot(void* obj, const engine::Statement& s, int i,
                          const detail::Snapshot& snapshot) const override {
    TypedColumn::load_ref_with_snapshot(obj, ref_of(s, i), s, i, snapshot);
  }
  void load_ref_with_snapshot(void* obj, ValueRef r, const engine::Statement& s, int i,
                              const detail::Snapshot& snapshot) const override {
    load_from(obj, r, s, i);
    Value scratch;
    snapshot.set(index, snapshot_inline(obj, scratch));
  }
  Value get(const void* obj) const override {
    const M& v = static_cast<const T*>(obj)->*member_;
    if constexpr (optional) {
      if (!v) return null;
      return Type<B>::to_value(*v);
    } else {
      return Type<B>::to_value(v);
    }
  }
  void set(void* obj, const Value& value) const override {
    M& v = static_cast<T*>(obj)->*member_;
    if (is_null(value)) return set_null(v);
    try {
      v = Type<B>::from_value(value);
    } catch (const DataError& e) {
      detail::throw_load_error(*this, e);
    }
  }
  Value row_value(const engine::Statement& s, int i) const override {
    Value v = s.get_value(i);
    if constexpr (std::is_same_v<B, std::string>) {
      if (std::holds_alternative<std::string>(v)) return v;  // already in get()'s form
    }
    if (is_null(v)) return v;
    try {
      return Type<B>::to_value(Type<B>::from_value(v));
    } catch (const DataError& e) {
      detail::throw_load_error(*this, e);
    }
  }
  ValueRef snapshot(const void* obj, Value& scratch) const override {
    return snapshot_inline(obj, scratch);
  }
  Value from_snapshot(ValueRef snapshot) const override {
    if constexpr (detail::own_snapshot_form<B>) {
      if (snapshot.is_null()) return null;
      return Type<B>::to_value(Type<B>::from_snapshot(snapshot.to_value()));
    } else {
      return snapshot.to_value();
    }
  }
  bool equal(const void* obj, const detail::SnapshotCell& snapshot) const override {
    Value scratch;
    return snapshot.holds(snapshot_inline(obj, scratch));
  }
  bool any_changed(const void* const* objects, const detail::InstanceState* states,
                   std::size_t n, const detail::SnapshotCell* cells) const override {
    Value scratch;
    const auto member = member_;  // in a register: the loop's stores could alias member_
    for (std::size_t k = 0; k < n; ++k) {
      const void* obj = objects[k];
      if (obj == nullptr) continue;  // an erased slot
      if (!cells[k].holds(snapshot_of_member(static_cast<const T*>(obj)->*member, scratch)) &&
          states[k].status == detail::ObjectStatus::persistent)
        return true;
    }
    return false;
  }
  bool same_value(const void* obj, const Value& value) const override {
    const M& v = static_cast<const T*>(obj)->*member_;
    if constexpr (optional) {
      if (!v) return is_null(value);
      return Type<B>::equal(*v, value);
    } else {
      return Type<B>::equal(v, value);
    }
  }
  bool key_unset(const void* obj) const override {
    const M& v = static_cast<const T*>(obj)->*member_;
    if constexpr (optional) {
      return !v.has_value();
    } else if constexpr (std::is_integral_v<B>) {
      return v == B{};
    } else {
      return false;
    }
  }
  void clear_key(void* obj) const override {
    M& v = static_cast<T*>(obj)->*member_;
    v = M{};
  }
  void apply_default(void* obj) const override {
    if constexpr (optional) {
      M& v = static_cast<T*>(obj)->*member_;
      if (!v && default_) v = default_();
    }
  }

  std::function<B()> default_;

 private:
  // A type that reads from a ValueRef gets the value, its storage class and whether it is NULL
  // from one call to the statement; the others ask for each.
  static constexpr bool by_ref = requires(ValueRef r, const engine::Statement& st, int k) {
    Type<B>::from_ref(r, st, k);
  };
  // What load_from() takes as r: the column's value for a by_ref type, else nothing.
  static ValueRef ref_of(const engine::Statement& s, int i) {
    if constexpr (by_ref) return s.get_ref(i);
    else return {};
  }
  // Reads result column i into the member; r is the column's value when the type reads from a
  // ValueRef (by_ref), and unused otherwise.
  void load_from(void* obj, ValueRef r, const engine::Statement& s, int i) const {
    M& v = static_cast<T*>(obj)->*member_;
    if (by_ref ? r.is_null() : s.is_null(i)) return set_null(v);
    try {
      if constexpr (by_ref) v = Type<B>::from_ref(r, s, i);
      else v = Type<B>::read(s, i);
    } catch (const DataError& e) {
      detail::throw_load_error(*this, e);
    }
  }
  // NULL into the member: empties an optional one; any other throws naming this column.
  void set_null(M& v) const {
    if constexpr (optional) v.reset();
    else detail::throw_null_error(*this);
  }
  ValueRef snapshot_inline(const void* obj, Value& scratch) const {
    return snapshot_of_member(static_cast<const T*>(obj)->*member_, scratch);
  }
  static ValueRef snapshot_of_member(const M& v, Value& scratch) {
    if constexpr (optional) {
      if (!v) return {};
      return detail::snapshot_of<B>(*v, scratch);
    } else {
      return detail::snapshot_of<B>(v, scratch);
    }
  }

  M T::*member_;
};

// column("name", &T::member) and its options.
template <class T, class M>
class ColumnDef {
 public:
  using owner_type = T;
  using B = detail::base_t<M>;

  ColumnDef(std::string name, M T::*member) : name_(std::move(name)), member_(member) {}

  ColumnDef& primary_key() {
    primary_key_ = true;
    return *this;
  }
  // Whether an integer primary key is assigned by the database (default: yes when it is the
  // only primary key column).
  ColumnDef& autoincrement(bool on = true) {
    autoincrement_ = on;
    return *this;
  }
  // VARCHAR(n) instead of TEXT.
  ColumnDef& length(int n) {
    static_assert(std::is_same_v<B, std::string>, "strata: length() applies to string columns");
    length_ = n;
    return *this;
  }
  // Store as TEXT (unbounded) rather than a string type.
  ColumnDef& text() {
    static_assert(std::is_same_v<B, std::string>, "strata: text() applies to string columns");
    text_ = true;
    return *this;
  }
  ColumnDef& unique(bool on = true) {
    unique_ = on;
    return *this;
  }
  ColumnDef& index(bool on = true) {
    index_ = on;
    return *this;
  }
  // A default the database applies: SQL text, e.g. "0", "'draft'", "CURRENT_TIMESTAMP".
  ColumnDef& server_default(std::string sql) {
    server_default_ = std::move(sql);
    return *this;
  }
  // A default applied in C++ at INSERT to a member that is still unset (std::optional only;
  // for other members, give the struct member an initializer). Takes a value or a callable.
  template <class D>
  ColumnDef& default_(D d) {
    static_assert(detail::is_optional_v<M>,
                  "strata: default_() applies to std::optional members; for other members "
                  "write a default member initializer in the struct");
    if constexpr (std::is_invocable_r_v<B, D>) {
      default_fn_ = std::move(d);
    } else {
      default_fn_ = [v = B(std::move(d))] { return v; };
    }
    return *this;
  }
  // The column's name before a rename, for autogenerate: `db migrate` renames the column
  // `old_name` of the migrations to this one (keeping its data) instead of asking or stopping.
  // Harmless to keep after the rename is migrated; a hint that does not fit the migrations
  // (no such column there) is ignored.
  ColumnDef& renamed_from(std::string old_name) {
    renamed_from_ = std::move(old_name);
    return *this;
  }
  // A foreign key to a mapped column: references(&User::id).
  template <class U, class N>
  ColumnDef& references(N U::*target) {
    ref_.emplace();
    ref_->target_mapper = &mapper_of<U>;
    ref_->target_offset = detail::offset_of(target);
    return *this;
  }
  // A foreign key to a table declared by name: references("user.id").
  ColumnDef& references(std::string_view table_dot_column) {
    auto dot = table_dot_column.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == table_dot_column.size())
      throw ArgumentError("references(\"" + std::string(table_dot_column) +
                          "\"): expected \"table.column\"");
    ref_.emplace();
    ref_->table = std::string(table_dot_column.substr(0, dot));
    ref_->column = std::string(table_dot_column.substr(dot + 1));
    return *this;
  }
  ColumnDef& on_delete(schema::ReferentialAction a) {
    require_reference("on_delete");
    ref_->on_delete = a;
    return *this;
  }
  ColumnDef& on_update(schema::ReferentialAction a) {
    require_reference("on_update");
    ref_->on_update = a;
    return *this;
  }

  template <class Mapping>
  void install(Mapping& m) const {
    if constexpr (detail::has_type_mapping<B>) install_column(m);
    else (void)sizeof(TypedColumn<T, M>);  // its static_assert names the problem
  }

 private:
  template <class Mapping>
  void install_column(Mapping& m) const {
    auto c = std::make_unique<TypedColumn<T, M>>(member_);
    c->column.name = name_;
    c->column.type.kind = text_ ? schema::TypeKind::text : Type<B>::kind;
    if (length_) c->column.type.length = length_;
    c->column.nullable = detail::is_optional_v<M> && !primary_key_;
    c->optional_member = detail::is_optional_v<M>;
    c->column.primary_key = primary_key_;
    c->column.autoincrement = autoincrement_.value_or(false);
    c->column.server_default = server_default_;
    c->renamed_from = renamed_from_;
    c->offset = detail::offset_of(member_);
    c->unique = unique_;
    c->indexed = index_;
    c->references = ref_;
    c->default_ = default_fn_;
    m.autoincrement_requested.push_back(autoincrement_);
    m.columns.push_back(std::move(c));
  }
  void require_reference(const char* what) const {
    if (!ref_)
      throw ArgumentError(std::string("column '") + name_ + "': " + what +
                          "() needs references(...) first");
  }
  std::string name_;
  M T::*member_;
  bool primary_key_ = false;
  std::optional<bool> autoincrement_;
  std::optional<int> length_;
  bool text_ = false;
  bool unique_ = false;
  bool index_ = false;
  std::optional<std::string> server_default_;
  std::string renamed_from_;
  std::function<B()> default_fn_;
  std::optional<ColumnReference> ref_;
};

template <class T, class M>
ColumnDef<T, M> column(std::string name, M T::*member) {
  return ColumnDef<T, M>(std::move(name), member);
}

// The accessor behind a BelongsTo / HasMany / HasOne member.
template <class T, class F>
class TypedRelationship final : public RelationshipInfo {
 public:
  using U = typename detail::relation_target<F>::type;
  static constexpr bool scalar = !std::is_same_v<F, HasMany<U>>;  // BelongsTo or HasOne
  explicit TypedRelationship(F T::*member) : member_(member) {}

  detail::RelationField& field(void* obj) const override { return static_cast<T*>(obj)->*member_; }
  void set_target(void* obj, std::shared_ptr<void> other, bool changed) const override {
    if constexpr (std::is_same_v<F, BelongsTo<U>>) {
      auto& f = static_cast<T*>(obj)->*member_;
      detail::SessionAccess::target(f) = std::static_pointer_cast<U>(std::move(other));
      detail::SessionAccess::loaded(f) = true;
      if (changed) detail::SessionAccess::changed(f) = true;
    }
  }
  void expire(void* obj) const override {
    auto& f = static_cast<T*>(obj)->*member_;
    if constexpr (scalar) detail::SessionAccess::target(f).reset();
    else detail::SessionAccess::items(f).clear();
    detail::SessionAccess::loaded(f) = false;
    detail::SessionAccess::changed(f) = false;
  }
  void add_item(void* obj, std::shared_ptr<void> item) const override {
    auto& f = static_cast<T*>(obj)->*member_;
    if constexpr (std::is_same_v<F, HasMany<U>>) {
      if (!detail::SessionAccess::loaded(f)) return;  // loads with the item when accessed
      detail::SessionAccess::add(f, std::static_pointer_cast<U>(std::move(item)));
    } else if constexpr (std::is_same_v<F, HasOne<U>>) {
      if (!detail::SessionAccess::loaded(f)) return;
      detail::SessionAccess::target(f) = std::static_pointer_cast<U>(std::move(item));
      detail::SessionAccess::changed(f) = true;
    }
  }
  void remove_item(void* obj, const void* item) const override {
    auto& f = static_cast<T*>(obj)->*member_;
    if constexpr (std::is_same_v<F, HasMany<U>>) {
      detail::SessionAccess::remove(f, item);
    } else if constexpr (std::is_same_v<F, HasOne<U>>) {
      auto& t = detail::SessionAccess::target(f);
      if (t.get() == item) t.reset();
    }
  }
  void remove_items(void* obj, const std::unordered_set<const void*>& items) const override {
    auto& f = static_cast<T*>(obj)->*member_;
    if constexpr (std::is_same_v<F, HasMany<U>>) {
      detail::SessionAccess::remove(f, items);
    } else if constexpr (std::is_same_v<F, HasOne<U>>) {
      auto& t = detail::SessionAccess::target(f);
      if (items.contains(t.get())) t.reset();
    }
  }
  void set_loaded(void* obj, std::vector<std::shared_ptr<void>> items) const override {
    auto& f = static_cast<T*>(obj)->*member_;
    if constexpr (scalar) {
      detail::SessionAccess::target(f) =
          items.empty() ? nullptr : std::static_pointer_cast<U>(std::move(items.front()));
    } else {
      auto& out = detail::SessionAccess::items(f);
      out.clear();
      out.reserve(items.size());
      for (auto& p : items) out.push_back(std::static_pointer_cast<U>(std::move(p)));
    }
    detail::SessionAccess::loaded(f) = true;
  }
  std::vector<std::shared_ptr<void>> current(void* obj) const override {
    auto& f = static_cast<T*>(obj)->*member_;
    std::vector<std::shared_ptr<void>> out;
    if (!detail::SessionAccess::loaded(f)) return out;
    if constexpr (scalar) {
      if (auto& t = detail::SessionAccess::target(f)) out.push_back(t);
    } else {
      const auto& items = detail::SessionAccess::held(f);
      out.reserve(items.size());
      for (const auto& p : items) out.push_back(p);
    }
    return out;
  }
  bool holds(void* obj, const void* item) const override {
    auto& f = static_cast<T*>(obj)->*member_;
    if (!detail::SessionAccess::loaded(f)) return false;
    if constexpr (scalar) return detail::SessionAccess::target(f).get() == item;
    else return detail::SessionAccess::holds(f, item);
  }
  std::vector<std::shared_ptr<void>> load(void* obj) const override {
    auto& f = static_cast<T*>(obj)->*member_;
    if constexpr (scalar) (void)f.get();
    else (void)f.all();
    return current(obj);
  }

 private:
  F T::*member_;
};

// has_many("posts", &User::posts) / belongs_to("author", &Post::author, &Post::user_id).
template <class T, class F>
class RelationshipDef {
 public:
  using owner_type = T;
  using U = typename detail::relation_target<F>::type;

  RelationshipDef(std::string name, F T::*member) : name_(std::move(name)), member_(member) {}

  // The relationship on the other side that mirrors this one, kept in step in memory.
  template <class G>
  RelationshipDef& back_populates(G U::*other) {
    back_offset_ = detail::offset_of(other);
    return *this;
  }
  // How the relationship loads unless a query says otherwise (options(...)):
  // Loading::select (lazily, on first access; the default), joined, selectin or raise.
  RelationshipDef& lazy(Loading strategy) {
    lazy_ = strategy;
    return *this;
  }
  // Many-to-many: has_many("followed", &User::followed).secondary(followers, "follower_id",
  // "followed_id"): the association table, its column that refers to T (local) and the one
  // that refers to U (remote).
  RelationshipDef& secondary(const AssociationTable& table, std::string local_column,
                             std::string remote_column) {
    static_assert(std::is_same_v<F, HasMany<U>>,
                  "strata: secondary(...) makes a many-to-many relationship; declare the member "
                  "as strata::HasMany<T> and map it with has_many(...)");
    secondary_ = table;
    local_column_ = std::move(local_column);
    remote_column_ = std::move(remote_column);
    return *this;
  }
  // SQLAlchemy's cascade: "save-update" (the default), "delete", "delete-orphan", or "all"
  // (save-update and delete), separated by commas: cascade("all, delete-orphan").
  RelationshipDef& cascade(std::string_view text) {
    try {
      cascade_ = Cascade::parse(text);
    } catch (const ArgumentError& e) {
      throw ArgumentError("relationship '" + name_ + "': " + e.what());
    }
    return *this;
  }
  // Deleting the owner leaves its unloaded related rows to the database's ON DELETE
  // (column(...).references(...).on_delete(...)) instead of loading them.
  RelationshipDef& passive_deletes(bool on = true) {
    passive_deletes_ = on;
    return *this;
  }
  // The foreign-key column: for belongs_to a member of T, for has_many/has_one a member of U.
  template <class C, class N>
  RelationshipDef& foreign_key(N C::*fk) {
    static_assert(std::is_same_v<C, T> || std::is_same_v<C, U>,
                  "strata: foreign_key() names a member of one of the two related models");
    fk_offset_ = detail::offset_of(fk);
    return *this;
  }

  template <class Mapping>
  void install(Mapping& m) const {
    auto r = std::make_unique<TypedRelationship<T, F>>(member_);
    r->name = name_;
    r->kind = detail::relation_target<F>::kind;
    r->target = &mapper_of<U>;
    r->field_offset = detail::offset_of(member_);
    r->fk_offset = fk_offset_;
    r->back_offset = back_offset_;
    r->lazy = lazy_;
    r->cascade = cascade_;
    r->passive_deletes = passive_deletes_;
    if (secondary_) {
      r->kind = RelationKind::many_to_many;
      r->secondary = secondary_;
      r->local_column = local_column_;
      r->remote_column = remote_column_;
    }
    if constexpr (requires { Model<T>::name; })
      detail::check_cascade(*r, std::string_view(Model<T>::name));
    else
      detail::check_cascade(*r, std::string_view(Model<T>::table));
    m.relationships.push_back(std::move(r));
  }

 private:
  std::string name_;
  F T::*member_;
  std::optional<std::size_t> fk_offset_;
  std::optional<std::size_t> back_offset_;
  Loading lazy_ = Loading::select;
  Cascade cascade_;
  bool passive_deletes_ = false;
  std::optional<AssociationTable> secondary_;
  std::string local_column_;
  std::string remote_column_;
};

template <class T, class U>
RelationshipDef<T, HasMany<U>> has_many(std::string name, HasMany<U> T::*member) {
  return RelationshipDef<T, HasMany<U>>(std::move(name), member);
}
template <class T, class U>
RelationshipDef<T, HasOne<U>> has_one(std::string name, HasOne<U> T::*member) {
  return RelationshipDef<T, HasOne<U>>(std::move(name), member);
}
template <class T, class U>
RelationshipDef<T, BelongsTo<U>> belongs_to(std::string name, BelongsTo<U> T::*member) {
  return RelationshipDef<T, BelongsTo<U>>(std::move(name), member);
}
template <class T, class U, class N>
RelationshipDef<T, BelongsTo<U>> belongs_to(std::string name, BelongsTo<U> T::*member,
                                            N T::*foreign_key) {
  auto r = RelationshipDef<T, BelongsTo<U>>(std::move(name), member);
  r.foreign_key(foreign_key);
  return r;
}

// Table-level constraints: unique(&Post::user_id, &Post::timestamp), index(...),
// check("body_not_empty", "length(body) > 0"). name() overrides the naming convention.
template <class T>
class TableArgDef {
 public:
  using owner_type = T;  // void for check(): fits any model
  TableArgDef(Mapper::TableArg::Kind kind, std::vector<std::size_t> offsets, std::string sqltext,
              std::string name)
      : arg_{kind, std::move(name), std::move(offsets), std::move(sqltext)} {}
  TableArgDef& name(std::string n) {
    arg_.name = std::move(n);
    return *this;
  }
  template <class Mapping>
  void install(Mapping& m) const {
    m.table_args.push_back(arg_);
  }

 private:
  Mapper::TableArg arg_;
};

template <class T, class... Ms>
TableArgDef<T> unique(Ms T::*... members) {
  return {Mapper::TableArg::Kind::unique, {detail::offset_of(members)...}, {}, {}};
}
template <class T, class... Ms>
TableArgDef<T> index(Ms T::*... members) {
  return {Mapper::TableArg::Kind::index, {detail::offset_of(members)...}, {}, {}};
}
template <class T, class... Ms>
TableArgDef<T> unique_index(Ms T::*... members) {
  return {Mapper::TableArg::Kind::unique_index, {detail::offset_of(members)...}, {}, {}};
}
// A CHECK constraint; `name` is the short name the naming convention expands (ck_<table>_name).
inline TableArgDef<void> check(std::string name, std::string sqltext) {
  return {Mapper::TableArg::Kind::check, {}, std::move(sqltext), std::move(name)};
}

// The product of mapping(...): what Model<T>::columns() returns.
template <class T>
struct Mapping {
  std::vector<std::unique_ptr<ColumnInfo>> columns;
  std::vector<std::unique_ptr<RelationshipInfo>> relationships;
  std::vector<Mapper::TableArg> table_args;
  std::vector<std::optional<bool>> autoincrement_requested;  // parallel to columns
};

namespace detail {
template <class First, class... Rest>
struct first_owner {
  using type = typename First::owner_type;
};
}  // namespace detail

template <class... Defs>
auto mapping(const Defs&... defs) {
  using T = typename detail::first_owner<Defs...>::type;
  static_assert(!std::is_void_v<T>, "strata: mapping(...) must start with a column");
  static_assert(((std::is_same_v<typename Defs::owner_type, T> ||
                  std::is_void_v<typename Defs::owner_type>) &&
                 ...),
                "strata: every column and relationship in one mapping(...) must be a member "
                "of the same struct");
  Mapping<T> m;
  (defs.install(m), ...);
  return m;
}

namespace detail {

template <class T>
concept mapped_model = requires {
  { Model<T>::table } -> std::convertible_to<std::string_view>;
  Model<T>::columns();
};

// The mapper of T, built from Model<T>.
template <class T>
class TypedMapper final : public Mapper {
 public:
  TypedMapper() : Mapper(std::string(std::string_view(Model<T>::table))) {
    auto m = Model<T>::columns();
    static_assert(std::is_same_v<decltype(m), Mapping<T>>,
                  "strata: Model<T>::columns() must return mapping(...) of T's own members");
    if constexpr (requires { Model<T>::name; }) class_name = std::string(Model<T>::name);
    else class_name = table_name();
    // Model<T>::bind = "users": the model lives in that named database (DatabaseOptions::binds).
    if constexpr (requires { Model<T>::bind; }) bind = std::string(std::string_view(Model<T>::bind));
    // Model<T>::renamed_from = "old_table": a hint for autogenerate (Database::rename_hints).
    if constexpr (requires { Model<T>::renamed_from; })
      renamed_from = std::string(std::string_view(Model<T>::renamed_from));
    columns = std::move(m.columns);
    relationships = std::move(m.relationships);
    table_args = std::move(m.table_args);
    for (std::size_t i = 0; i < columns.size(); ++i)
      requested_autoincrement_.push_back(m.autoincrement_requested[i]);
    finish_columns(requested_autoincrement_);
  }
  std::shared_ptr<void> create(ObjectBlocks& blocks) const override {
    if constexpr (sizeof(T) <= ObjectBlock::max_object)
      return std::allocate_shared<T>(BlockAllocator<T>(blocks.next()));
    else
      return std::make_shared<T>();
  }

 private:
  std::vector<std::optional<bool>> requested_autoincrement_;
};

}  // namespace detail

// The mapper of a model, built on first use (thread-safe).
template <class T>
const Mapper& mapper_of() {
  static_assert(detail::mapped_model<T>,
                "strata: this type is not mapped; declare template <> struct "
                "strata::Model<YourType> { static constexpr auto table = \"...\"; "
                "static auto columns() { return mapping(...); } };");
  static detail::TypedMapper<T> m;  // not const: configure() fills resolved fields once
  return m;
}

}  // namespace strata
