// Private to the ORM: the pieces of the session shared by session_core.cpp, flush.cpp and
// loading.cpp — identity keys, row loading, and the flush pipeline.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "database_core.hpp"
#include "events_internal.hpp"
#include "strata/dialect/dialect.hpp"
#include "strata/engine/connection.hpp"
#include "strata/orm/mapping.hpp"
#include "strata/orm/session_core.hpp"

namespace strata::detail {

// Sets a flag (to true, or to `value`) for a scope, and puts back what it was when the scope
// ends, however it ends.
class SetForScope {
 public:
  explicit SetForScope(bool& flag, bool value = true) noexcept : flag_(flag), was_(flag) {
    flag_ = value;
  }
  SetForScope(const SetForScope&) = delete;
  SetForScope& operator=(const SetForScope&) = delete;
  ~SetForScope() { flag_ = was_; }

 private:
  bool& flag_;
  bool was_;
};

// Values as keys of a map (Value itself has no order: Null has none).
struct ValueLess {
  bool operator()(const Value& a, const Value& b) const {
    if (a.index() != b.index()) return a.index() < b.index();
    return std::visit(
        [&b](const auto& x) -> bool {
          using X = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<X, Null>)
            return false;
          else
            return x < std::get<X>(b);
        },
        a);
  }
};

// Several key values as one (a composite key's identity).
std::string encode_key(const std::vector<Value>& parts);
// The row lock a query takes: its own (with_for_update()), else the first of a subquery in it
// (in its conditions, joins, ordering or grouping), which on SQLite begins the session's
// transaction as the query's own would (with the write lock).
std::optional<sql::RowLock> lock_taken(const QuerySpec& q);
// The identity of an object from its key members (composite keys encoded as one text).
Value identity_of(const Mapper& m, const void* obj);
// The same, of st's row as the database has it: from its snapshot.
Value identity_in_snapshot(const InstanceState& st);
// The column values of obj, in mapper order.
std::vector<Value> capture(const Mapper& m, const void* obj);
// Takes the snapshot of obj into out: each column's ColumnInfo::snapshot form, by index.
void take_snapshot(const Mapper& m, const void* obj, const Snapshot& out);
// The column a foreign key points at, on the referred-to side.
const ColumnInfo& referenced_column(const ColumnInfo& fk, const Mapper& referred);
// "<User id=1>", for messages.
std::string describe(const Mapper& m, const void* obj);
// Throws MultipleResultsFound when a HasOne relationship rel of owner found `rows` rows
// (lazy and eager loads alike).
void check_one(const RelationshipInfo& rel, const void* owner, std::size_t rows);

// Objects to take out of collections (and one-to-ones), gathered so that each collection is
// gone through once: n children leaving one parent's list cost one pass over it, not n.
// The owners are held until then: the last reference to one may be the reference being
// changed meanwhile.
class Removals {
 public:
  void add(const RelationshipInfo& rel, std::shared_ptr<void> owner, const void* item) {
    auto& entry = by_owner_[{&rel, owner.get()}];
    if (!entry.owner) entry.owner = std::move(owner);
    entry.items.insert(item);
  }
  void apply() {
    for (const auto& [where, entry] : by_owner_)
      where.first->remove_items(entry.owner.get(), entry.items);
    by_owner_.clear();
  }

 private:
  struct Entry {
    std::shared_ptr<void> owner;
    std::unordered_set<const void*> items;
  };
  std::map<std::pair<const RelationshipInfo*, const void*>, Entry> by_owner_;
};

// The objects a query with populate_existing has overwritten so far.
using Populated = std::unordered_set<const InstanceState*>;

// Turns result rows into session objects (columns in mapper order from column 0).
class Loader {
 public:
  // The object for the current row of s: the identity map's, or a new persistent one. m's
  // columns start at result column first_column (past a joined parent's, say).
  // populate, when given (Query::populate_existing): an object the session holds takes the
  // row's values too (Loader::overwrite), once: the states overwritten so far in the query
  // are kept there (a parent repeated by joined rows, an object loaded by two eager loads).
  static std::shared_ptr<void> load_row(SessionCore& session, const Mapper& m,
                                        const engine::Statement& s, int first_column = 0,
                                        Populated* populate = nullptr);
  // The object of st takes the current row of s as refresh() takes its row: columns and
  // snapshot (what rollback() puts back kept first), relationships to load again on next
  // access; new objects they took in stay in the session.
  static void overwrite(SessionCore& session, InstanceState& st, const engine::Statement& s,
                        int first_column = 0);
  // A new persistent object for the current row of s, whose key is `key` and not in the
  // identity map: the caller has just looked. It goes into the map at `slot` when given (from
  // IdentityMap::slot_for, with nothing put or erased since), else with put(). key_ref, when
  // given, is the value of m's single-column primary key as read from s (s.get_ref()): the
  // key column is loaded from it rather than read again.
  static std::shared_ptr<void> load_new_row(SessionCore& session, const Mapper& m,
                                            const engine::Statement& s, IdentityKey key,
                                            int first_column = 0, InstanceState** slot = nullptr,
                                            ValueRef key_ref = {});
  static sql::Select select_for(SessionCore& session, const Mapper& m, const QuerySpec& q);
};

// The flush pipeline: organize (cascade, collect), emit (INSERT / UPDATE in dependency order,
// DELETE in reverse), finalize (identity map, snapshots). On failure it rolls the transaction
// back (SessionCore::abort_transaction). Event handlers run at their points of the pipeline.
class Flush {
 public:
  explicit Flush(SessionCore& session) : session_(session) {}
  // Whether there was work to do.
  bool run();
  // Whether event handlers ran in this flush (they may have left work for another).
  bool handlers_ran() const noexcept { return handlers_ran_; }
  // The many-to-one references of the updated objects whose foreign key was set by hand, and
  // the loaded collections of their old and new parents (also those declared on the parent's
  // side only), follow the key; only the foreign keys among `columns` when given (a bulk
  // update's, before their snapshots are taken).
  void follow_keys_set_by_hand(const std::vector<InstanceState*>& states,
                               const std::vector<const ColumnInfo*>* columns = nullptr);

 private:
  // The many-to-one references of the rows inserted by this flush that their foreign keys do
  // not match (a key set by value, Post{.user_id = 7}, or by a before_insert handler) follow
  // the keys, as an update's do, and the parents' loaded collections take them in.
  void follow_keys_of_new_rows();
  // What both share: st's many-to-one reference rel points at the session's object with key,
  // or loads by it on next access, or is null for a NULL key. Its old parent (null if none is
  // known) lets go of st through `left`, unless it is the new one (its own key changed to the
  // new value in this flush); the new one's loaded collection takes st in, or its one-to-one
  // expires.
  void follow_key(InstanceState& st, const RelationshipInfo& rel, const Value& key,
                  std::shared_ptr<void> old_parent, Removals& left);
  // The one-to-many and one-to-one relationships declared on the parent's side only (no back
  // reference) whose foreign key is a column of m: those whose loaded collections list m's
  // rows by that key. Found once per flush.
  const std::vector<const RelationshipInfo*>& one_sided_into(const Mapper& m);
  // st's key of such a relationship moved from `before` to `now` (by hand, by a bulk update,
  // or a new row's given by value): the old parent's loaded collection lets go of st through
  // `left`, the new one's takes it in (a one-to-one: expires, unless set in memory). Parents
  // are found in the identity map when the key is their primary key.
  void follow_key_into(InstanceState& st, const RelationshipInfo& rel, const Value& before,
                       const Value& now, Removals& left);
  struct MapperWork {
    const Mapper* mapper = nullptr;
    std::vector<InstanceState*> inserts;  // in add() order
    std::vector<InstanceState*> updates;  // persistent objects to check for changes
    std::vector<InstanceState*> deletes;
  };

  // Objects deleted by cascade (delete, delete-orphan) join the deletions; objects related to
  // a deleted one without the delete cascade lose their foreign key (set NULL).
  void cascade_deletes();
  IntegrityError orphaned_not_null(const InstanceState& parent, const RelationshipInfo& rel);
  // Whether child, in parent's loaded one-to-many or one-to-one `rel`, has since had its
  // foreign key set by hand to another parent, or was put in another's (see cascade_deletes).
  bool moved_away(const InstanceState& parent, const RelationshipInfo& rel, void* child);
  // The owner whose collection `rel` (one without a back reference) had child appended since
  // the last flush and still holds it, or null.
  const InstanceState* appended_holder(const RelationshipInfo& rel, const void* child);
  void cascade();
  // INSERT / DELETE of association rows for the many-to-many links changed since the last
  // flush; the DELETE of a deleted object's association rows.
  void emit_links();
  // With passive_deletes too when `even_passive` (a row switch's old object: no DELETE runs
  // for the database's ON DELETE to act on).
  void emit_secondary_deletes(InstanceState& s, bool even_passive = false);
  // SQLAlchemy's row switch: a new object with the key of an object deleted in the same flush
  // takes that object's row over, by an UPDATE of the columns that differ, rather than an
  // INSERT that the row still there would refuse (or a DELETE that the rows referring to it
  // would). The deleted object leaves the session as after its DELETE.
  void switch_rows(std::vector<MapperWork>& work);
  // The mappers with deletions whose table no table refers to: their DELETEs run before
  // their INSERTs rather than in the children-first pass at the end.
  std::unordered_set<const Mapper*> deletable_first(const std::vector<MapperWork>& work);
  std::vector<MapperWork> collect();
  void sync_foreign_keys(InstanceState& s);
  // After s's INSERT or UPDATE: the objects of its changed one-to-many and one-to-one
  // relationships that need its key take it (see rekeyed_).
  void push_keys_to_children(InstanceState& s, bool inserted);
  // What an INSERT of s writes and reads back (applies the C++ defaults first).
  struct InsertShape {
    std::vector<bool> included;   // columns written
    std::vector<bool> returning;  // columns read back (server defaults, the generated key)
    bool generated = false;       // the database assigns the key
    bool key_returned = false;    // ... and it comes back with RETURNING
    bool any_server_default = false;
    bool use_returning = false;
    bool operator==(const InsertShape&) const = default;
  };
  // The shape of s's INSERT (after applying its column defaults). Rows of a mapper alike
  // (the key unset or set, the same nullable server-default columns NULL) share one shape,
  // made once per flush; the reference lives as long as this Flush.
  const InsertShape& insert_shape(InstanceState& s);
  InsertShape make_insert_shape(const Mapper& m, const void* obj, bool generated) const;
  // The inserts of one mapper, in order: one statement each, or multi-row INSERTs where the
  // dialect batches them.
  void emit_inserts(const std::vector<InstanceState*>& states);
  void emit_insert(InstanceState& s, const InsertShape& shape);
  // e of a multi-row statement into m's table, worded from the constraint the server names.
  IntegrityError explained_batch_error(const IntegrityError& e, const Mapper& m,
                                       dialect::RowContext::Operation op);
  void emit_insert_batch(std::span<InstanceState* const> states, const InsertShape& shape);
  // Takes the generated key and returned values into the object; it is persistent now.
  void finish_insert(InstanceState& s, const InsertShape& shape, const std::vector<Value>& returned);
  // Which columns of s differ from its snapshot.
  struct UpdateShape {
    ColumnSet changed;
    bool any = false;
    bool key_changed = false;
  };
  UpdateShape update_shape(InstanceState& s) const;
  // The updates of one mapper: one statement each, or one statement per set of changed
  // columns, for all the rows that changed them, where the dialect batches updates.
  // Fires before_update / after_update around emit_update_statements.
  void emit_updates(const std::vector<InstanceState*>& states);
  void emit_update_statements(const std::vector<InstanceState*>& states,
                              const std::vector<UpdateShape>& shapes);
  void emit_update(InstanceState& s, const UpdateShape& shape);
  void emit_update_batch(const std::vector<InstanceState*>& states, const UpdateShape& shape);
  // After a row's UPDATE: its snapshot (and the transaction's, for rollback), its identity.
  // A change of a column that foreign keys refer to is noted for carry_updates().
  void updated(InstanceState& s, const UpdateShape& shape);
  // s's row has a new key (in its snapshot): the identity map holds s by it.
  void key_follows_row(InstanceState& s);
  // The database's ON UPDATE actions, mirrored in memory. After the UPDATEs of one mapper's
  // rows, the objects the session holds whose foreign key referred to a value they changed
  // (a key, or another column a foreign key refers to) take what the database did to their
  // rows: CASCADE gives them the new value, SET NULL a NULL (and their reference and the old
  // parent's collections let go of them). Their snapshots follow the rows; their members too,
  // unless set by hand since the last flush (the flush writes that value next). The values
  // carry on, table by table, through the foreign keys that refer to the columns changed so,
  // whether the session holds those rows or not. SET DEFAULT is not mirrored; nothing is
  // where the connection does not enforce foreign keys (SQLite's foreign_keys option off).
  struct Carried {
    const ColumnInfo* column;      // of the updated mapper
    Value before, now;             // the value the rows referred to, and the new one
    std::shared_ptr<void> parent;  // the updated object
  };
  void carry_updates(const Mapper& m, std::vector<Carried> changes);
  // The columns of m that a foreign key with such an action (CASCADE or SET NULL) refers to;
  // null when none, or when foreign keys are not enforced. Found once per mapper and flush.
  const ColumnSet* carried_columns(const Mapper& m);
  // The foreign keys with such an action in m's database, found once per flush.
  const std::vector<ForeignKeyOf>& foreign_keys_carrying(const Mapper& m);
  void emit_delete(InstanceState& s);
  // The DELETEs of one mapper's deleted objects, between its before/after_delete handlers.
  void emit_deletes(const MapperWork& w);
  // Runs stmt to completion, turning an IntegrityError into one that names the constraint;
  // the first row's values go to *returned when given. Returns the rows affected.
  std::int64_t execute(engine::Statement& stmt, const InstanceState& s,
                       dialect::RowContext::Operation op, std::vector<Value>* returned);
  void finalize();

  // The handlers of m's event e, or null when it has none (the cost without handlers).
  const std::vector<Listener<ObjectHandler>>* handlers(const Mapper& m, Event e);
  void fire(const std::vector<Listener<ObjectHandler>>* handlers,
            const std::vector<InstanceState*>& states);
  void fire_session(SessionEvent e);

  SessionCore& session_;
  std::shared_ptr<const EventTable> events_;  // null when the database has no handlers
  bool handlers_ran_ = false;
  std::vector<InstanceState*> inserted_;
  std::vector<InstanceState*> touched_;
  // The deleted objects whose rows new objects took over (switch_rows), and those new ones.
  std::vector<InstanceState*> switched_;
  std::unordered_set<const InstanceState*> took_over_;
  // Objects already in the database whose key (the column their children refer to) changed:
  // all the children of their changed collections need the new one, not only those appended
  // since the last flush (see cascade(), updated()).
  std::unordered_set<const InstanceState*> rekeyed_;
  // appended_holder()'s index of the session's appended objects, by relationship, made on
  // first use.
  std::optional<std::unordered_map<const RelationshipInfo*,
                                   std::unordered_map<const void*, const InstanceState*>>>
      appended_holders_;
  // carried_columns() by mapper; the set of the mapper whose UPDATEs are being emitted, and the
  // changes they made to those columns, for carry_updates().
  std::unordered_map<const Mapper*, std::optional<ColumnSet>> carried_columns_;
  std::unordered_map<const DatabaseCore*, std::vector<ForeignKeyOf>> foreign_keys_carrying_;
  const ColumnSet* carrying_ = nullptr;
  std::vector<Carried> carried_;
  // Insert shapes made in this flush, by mapper and kind of row (see insert_shape).
  std::map<std::pair<const Mapper*, std::uint64_t>, InsertShape> insert_shapes_;
  std::deque<InsertShape> odd_insert_shapes_;  // of mappers too wide for that key
  // The statement of the last single-row INSERT / UPDATE, kept for the next row of the same
  // shape (one cache lookup for a run of rows); released before the flush ends or fails.
  engine::CachedStatement insert_stmt_;
  const InsertShape* insert_stmt_shape_ = nullptr;
  engine::CachedStatement update_stmt_;
  const Mapper* update_stmt_mapper_ = nullptr;
  ColumnSet update_stmt_changed_;
  void release_statements() noexcept;
  // held, reset for another row; or, when text is given, text's statement from the
  // connection's cache, now held.
  engine::Statement& statement(engine::CachedStatement& held, const Mapper& m,
                               const engine::SqlText* text);
  // Many-to-many relationships of the registered models without a back_populates, found
  // on first need: deleting one of their targets deletes its rows of their tables.
  std::optional<std::vector<const RelationshipInfo*>> one_sided_;
  std::optional<std::unordered_map<const Mapper*, std::vector<const RelationshipInfo*>>>
      one_sided_into_;
};

}  // namespace strata::detail
