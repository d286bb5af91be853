// The Mapper: a model's mapping, type-erased. One per mapped struct, built once from
// Model<T>::columns() (see mapping.hpp). The unit of work, queries and loaders use only this,
// so they are ordinary compiled code; each column and relationship reaches into the struct
// through a small virtual accessor generated for its member.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "strata/engine/connection.hpp"
#include "strata/orm/snapshot.hpp"
#include "strata/schema/table.hpp"
#include "strata/sql/value.hpp"

namespace strata {

class Mapper;

namespace detail {
class ObjectBlocks;
class RelationField;
struct InstanceState;
class Snapshot;
}  // namespace detail

// Where a foreign-key column points: a mapped member (resolved when the mapper is
// configured) or a table and column given by name.
struct ColumnReference {
  const Mapper& (*target_mapper)() = nullptr;  // set for references(&User::id)
  std::size_t target_offset = 0;
  std::string table;                           // set for references("user.id")
  std::string column;
  schema::ReferentialAction on_delete = schema::ReferentialAction::no_action;
  schema::ReferentialAction on_update = schema::ReferentialAction::no_action;
};

// One mapped column: its schema, where the member sits, and how to move values in and out.
class ColumnInfo {
 public:
  virtual ~ColumnInfo() = default;

  schema::Column column;
  std::size_t offset = 0;  // byte offset of the member: how queries find the column
  std::size_t index = 0;   // position among the mapper's columns and in SELECT lists
  bool unique = false;     // single-column unique (an index too when indexed)
  bool indexed = false;
  // A std::optional member: left empty at insert, its server default (if any) applies, also
  // for a primary key (whose column is NOT NULL all the same).
  bool optional_member = false;
  std::optional<ColumnReference> references;
  std::string renamed_from;    // renamed_from("old"): the name before a rename, for autogenerate
  std::string qualified_name;  // "user.email", for messages

  virtual void bind(const void* obj, engine::Statement& s, int i) const = 0;
  // Reads result column i into the member. NULL into a non-optional member and values of
  // the wrong kind throw DataError naming this column.
  virtual void load(void* obj, const engine::Statement& s, int i) const = 0;
  // load(), then the member as loaded into the snapshot's cell `index`: one call per column
  // of a row that becomes a new object.
  virtual void load_with_snapshot(void* obj, const engine::Statement& s, int i,
                                  const detail::Snapshot& snapshot) const = 0;
  // load_with_snapshot() of a column its caller has read already: r is s.get_ref(i).
  virtual void load_ref_with_snapshot(void* obj, ValueRef r, const engine::Statement& s, int i,
                                      const detail::Snapshot& snapshot) const = 0;
  virtual Value get(const void* obj) const = 0;
  virtual void set(void* obj, const Value& v) const = 0;  // same checks as load
  // Result column i in get()'s form: what get() would return once it is loaded. A database
  // may spell a value otherwise than strata writes it (PostgreSQL drops a timestamp's zero
  // fraction), and keys read from rows are compared with keys of objects; same checks as load.
  virtual Value row_value(const engine::Statement& s, int i) const = 0;
  // The member's value in the form a snapshot keeps (what equal() compares with): get()'s
  // value, unless the type has a cheaper one to compare (Date, Time, DateTime: a number
  // rather than their text). A view of the member itself where it can be (a string's bytes),
  // else of a value built in scratch; valid while both are unchanged. from_snapshot() turns
  // it back into get()'s form, for SQL and messages.
  virtual ValueRef snapshot(const void* obj, Value& scratch) const = 0;
  virtual Value from_snapshot(ValueRef snapshot) const = 0;
  // Whether the member still holds the value its snapshot cell was taken from.
  virtual bool equal(const void* obj, const detail::SnapshotCell& snapshot) const = 0;
  // Whether equal() fails for a persistent state among states[0, n), whose objects are
  // objects[0, n) (null for a free slot), against its cell cells[k]: one call for a chunk of a
  // session's state table (the scans before lazy loads), so that the comparison is inlined
  // rather than a call per object. A state is read only when its object differs.
  virtual bool any_changed(const void* const* objects, const detail::InstanceState* states,
                           std::size_t n, const detail::SnapshotCell* cells) const = 0;
  // Whether the member holds v, a value in get()'s form.
  virtual bool same_value(const void* obj, const Value& v) const = 0;
  // For a database-assigned key: whether it is still unassigned (0 or nullopt), and reset it.
  virtual bool key_unset(const void* obj) const = 0;
  virtual void clear_key(void* obj) const = 0;
  // The C++ default (column(...).default_(...)) for an unset optional member, at INSERT.
  virtual void apply_default(void* /*obj*/) const {}
};

enum class RelationKind {
  many_to_one,   // BelongsTo: the foreign key is in the owner
  one_to_many,   // HasMany: the foreign key is in the target
  one_to_one,    // HasOne: the foreign key is in the target, at most one row refers
  many_to_many,  // HasMany with secondary(...): rows of an association table link them
};

// How a relationship is loaded (SQLAlchemy's lazy="select" | "joined" | "selectin" | "raise"):
// chosen per relationship in the mapping (.lazy(...)), overridden per query (options(...)).
enum class Loading : unsigned char {
  select,    // lazily, one SELECT on first access (the default)
  joined,    // with its owners, in the same SELECT (LEFT OUTER JOIN)
  selectin,  // after its owners, one more SELECT for all of them (WHERE key IN (...))
  raise,     // never implicitly: accessing it unloaded throws InvalidRequestError
};

// One loader option of a query: the strategy for the relationship whose field sits at
// field_offset in the queried model.
struct RelationshipLoad {
  std::size_t field_offset = 0;
  Loading strategy = Loading::select;
};

// Whether the foreign key of a relationship of this kind sits in the target's table.
constexpr bool fk_in_target(RelationKind k) noexcept {
  return k == RelationKind::one_to_many || k == RelationKind::one_to_one;
}

// A table that links two models in a many-to-many relationship and maps to no struct: two
// columns, each a foreign key to one side ("table.column"), together its primary key. Their
// types are those of the columns they refer to. Declare it once and name it in the
// relationships of both sides; it joins a Database's metadata with the models that use it.
//
//   inline const strata::AssociationTable followers{
//       "followers", {"follower_id", "user.id"}, {"followed_id", "user.id"}};
struct AssociationTable {
  struct Column {
    std::string name;
    std::string references;  // "table.column"
    schema::ReferentialAction on_delete = schema::ReferentialAction::no_action;
  };
  std::string name;
  Column left;
  Column right;
};

// SQLAlchemy's cascade="...": what happens to related objects when the owner is added,
// deleted, or lets go of them. Parsed from "save-update, delete, delete-orphan" or "all".
struct Cascade {
  bool save_update = true;     // adding the owner adds the related objects
  bool delete_ = false;        // deleting the owner deletes them
  bool delete_orphan = false;  // an object removed from the relationship is deleted
  // Throws ArgumentError naming an unknown word.
  static Cascade parse(std::string_view text);
};

// One relationship field (BelongsTo / HasMany / HasOne) of a mapped struct.
class RelationshipInfo {
 public:
  virtual ~RelationshipInfo() = default;

  std::string name;
  RelationKind kind = RelationKind::many_to_one;
  const Mapper& (*target)() = nullptr;  // the mapper of the other side
  std::size_t field_offset = 0;          // where the BelongsTo / HasMany / HasOne member sits
  std::optional<std::size_t> fk_offset;  // declared foreign-key member: in the owner for
                                         // many_to_one, in the target for one_to_many/one
  std::optional<std::size_t> back_offset;  // back_populates member in the target
  Loading lazy = Loading::select;          // the mapping's loading strategy
  Cascade cascade;
  // Deleting the owner does not load its unloaded related objects (nor delete its
  // association rows): the database's ON DELETE does that.
  bool passive_deletes = false;
  // many_to_many: the association table and which of its columns refers to the owner.
  std::optional<AssociationTable> secondary;
  std::string local_column;
  std::string remote_column;

  // Resolved by Mapper::configure():
  const Mapper* owner = nullptr;
  const ColumnInfo* fk = nullptr;  // the foreign-key column (owner's or target's, as above)
  const RelationshipInfo* back = nullptr;
  // many_to_many: the association table's schema, the owner's column its local column
  // refers to and the target's column its remote column refers to, and whether the local
  // column is the table's left one.
  schema::Table secondary_table;
  const ColumnInfo* local_ref = nullptr;
  const ColumnInfo* remote_ref = nullptr;
  bool local_is_left = true;

  virtual detail::RelationField& field(void* obj) const = 0;
  // In-memory back-population, without touching the other side's back reference again.
  // many_to_one field: point it at other (may be null); `changed` marks it for the foreign
  // key sync at flush. one_to_many / many_to_many field: add or remove (only when loaded).
  // one_to_one field: add_item sets it (when loaded), remove_item clears it if it holds item.
  virtual void set_target(void* obj, std::shared_ptr<void> other, bool changed) const = 0;
  virtual void add_item(void* obj, std::shared_ptr<void> item) const = 0;
  virtual void remove_item(void* obj, const void* item) const = 0;
  // remove_item for every object of `items`, in one pass over the collection.
  virtual void remove_items(void* obj, const std::unordered_set<const void*>& items) const = 0;
  // The objects the field holds now, without loading (empty when not loaded).
  virtual std::vector<std::shared_ptr<void>> current(void* obj) const = 0;
  // Whether the field holds item now (false when not loaded); a long collection looks it up
  // in its set of addresses.
  virtual bool holds(void* obj, const void* item) const = 0;
  // Fills the field with what a loader found, marking it loaded (not changed): the items of a
  // collection, in order, or a many-to-one target as the only item (none: null).
  virtual void set_loaded(void* obj, std::vector<std::shared_ptr<void>> items) const = 0;
  // The objects the field holds, loading them through the session first if needed.
  virtual std::vector<std::shared_ptr<void>> load(void* obj) const = 0;
  // Forget what the field holds: it loads again on next access (after rollback, refresh).
  virtual void expire(void* obj) const = 0;
};

class Mapper {
 public:
  virtual ~Mapper() = default;
  Mapper(const Mapper&) = delete;
  Mapper& operator=(const Mapper&) = delete;

  std::string class_name;  // for messages; the table name unless the model says otherwise
  std::string bind;        // the named database it lives in (Model<T>::bind); empty: the default
  std::string renamed_from;  // the table's name before a rename (Model<T>::renamed_from)
  std::vector<std::unique_ptr<ColumnInfo>> columns;
  std::vector<std::unique_ptr<RelationshipInfo>> relationships;
  std::vector<const ColumnInfo*> primary_key;
  const ColumnInfo* autoincrement = nullptr;  // the database-assigned key column, if any

  const std::string& table_name() const noexcept { return table_name_; }
  // The table this mapper maps (naming convention applied); valid after configure().
  const schema::Table& table() const {
    configure();
    return table_;
  }

  const ColumnInfo* column_at(std::size_t offset) const noexcept;
  const ColumnInfo* find_column(std::string_view name) const noexcept;
  const RelationshipInfo* relationship_at(std::size_t offset) const noexcept;

  // Resolves foreign keys and relationships against the other mappers, builds table().
  // Idempotent and thread-safe; throws ArgumentError for a mapping that cannot work
  // (e.g. has_many without a foreign key on the other side).
  void configure() const;

  // A new value-initialized object of the mapped type, its memory from blocks.
  virtual std::shared_ptr<void> create(detail::ObjectBlocks& blocks) const = 0;

  // Table-level constraints declared in the mapping (unique(...), index(...), check(...)),
  // with member offsets still unresolved.
  struct TableArg {
    enum class Kind { unique, index, unique_index, check } kind;
    std::string name;
    std::vector<std::size_t> offsets;
    std::string sqltext;
  };
  std::vector<TableArg> table_args;

 protected:
  explicit Mapper(std::string table_name) : table_name_(std::move(table_name)) {}
  // Called by the typed mapper once columns are in place: fills index, qualified_name,
  // primary_key, autoincrement (requested per column: nullopt = decide: yes for a lone
  // integer primary key); validates.
  void finish_columns(const std::vector<std::optional<bool>>& autoincrement_requested);

 private:
  void do_configure();
  std::string table_name_;
  schema::Table table_;
  mutable std::once_flag configured_;
};

}  // namespace strata
