// strata::Session: the unit of work a user talks to (add, delete_, get, query, flush,
// commit, rollback). A session belongs to one thread; open one per request or task.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "strata/orm/query.hpp"
#include "strata/orm/result.hpp"
#include "strata/orm/session_core.hpp"

namespace strata {

class Database;

namespace detail {
template <class T>
struct is_shared_ptr : std::false_type {};
template <class T>
struct is_shared_ptr<std::shared_ptr<T>> : std::true_type {};

template <class K>
Value key_value(const K& k) {
  if constexpr (std::is_integral_v<K> && !std::is_same_v<K, bool>) {
    if constexpr (std::is_unsigned_v<K> && sizeof(K) >= sizeof(std::int64_t)) {
      if (k > static_cast<K>(INT64_MAX))
        throw DataError("key " + std::to_string(k) + " is above INT64_MAX, which no column holds", {});
    }
    return static_cast<std::int64_t>(k);
  } else if constexpr (std::is_convertible_v<const K&, std::string_view>) {
    return std::string(std::string_view(k));
  } else {
    return Type<K>::to_value(k);
  }
}
}  // namespace detail

// What Session::no_autoflush() returns: while it lives, the session does not autoflush; when
// it is destroyed (an exception leaving the scope too), autoflush is back as it found it. It
// must not outlive its session. Neither copied nor moved: keep it in a named variable.
class [[nodiscard]] NoAutoflush {
 public:
  NoAutoflush(const NoAutoflush&) = delete;
  NoAutoflush& operator=(const NoAutoflush&) = delete;
  ~NoAutoflush() { core_.autoflush = previous_; }

 private:
  friend class Session;
  explicit NoAutoflush(detail::SessionCore& core) noexcept
      : core_(core), previous_(core.autoflush) {
    core.autoflush = false;
  }
  detail::SessionCore& core_;
  bool previous_;
};

class Session {
 public:
  explicit Session(Database& db);
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();  // rolls back what was not committed

  // Makes obj pending: inserted at the next flush. Returns the session's handle to it.
  template <class T>
    requires(!detail::is_shared_ptr<std::remove_cvref_t<T>>::value)
  std::shared_ptr<std::remove_cvref_t<T>> add(T&& obj) {
    using U = std::remove_cvref_t<T>;
    auto p = std::make_shared<U>(std::forward<T>(obj));
    core_->add(mapper_of<U>(), p, /*fresh=*/true);
    return p;
  }
  template <class T>
  std::shared_ptr<T> add(std::shared_ptr<T> obj) {
    core_->add(mapper_of<T>(), obj);
    return obj;
  }
  // SQLAlchemy's merge(): obj's column values into the session's object with obj's primary
  // key, which is loaded first when the session does not hold it, and returned; the UPDATE at
  // flush sets the columns that differ. When obj's key is unassigned or no row has it, a copy
  // of obj is added (inserted at flush) and returned. obj itself does not join the session:
  // this is how an object kept beyond its session (expunged, or its session closed) comes
  // back. Relationships are not merged: the returned object's relationships load from the
  // database.
  template <class T>
    requires(!detail::is_shared_ptr<std::remove_cvref_t<T>>::value)
  std::shared_ptr<T> merge(const T& obj) {
    if (auto found = core_->merge(mapper_of<T>(), &obj)) return std::static_pointer_cast<T>(found);
    auto copy = std::make_shared<T>(obj);
    core_->add_merged_copy(mapper_of<T>(), copy);
    return copy;
  }
  template <class T>
  std::shared_ptr<T> merge(const std::shared_ptr<T>& obj) {
    if (!obj) throw ArgumentError("merge(): null object");
    return merge(*obj);
  }
  template <class T>
  void add_all(const std::vector<std::shared_ptr<T>>& objs) {
    for (const auto& o : objs) core_->add(mapper_of<T>(), o);
  }
  // Marks obj for deletion at the next flush. A pending object is just dropped (expunged);
  // one that a collection of an object in the session holds is added again by the
  // collection's cascade at flush: take it out of the collection instead.
  template <class T>
  void delete_(const std::shared_ptr<T>& obj) {
    core_->delete_(mapper_of<T>(), obj.get());
  }

  // The object with this primary key: from the identity map when present, else one SELECT.
  // Null when there is no such row.
  template <class T, class K>
  std::shared_ptr<T> get(const K& key) {
    return std::static_pointer_cast<T>(core_->get(mapper_of<T>(), detail::key_value(key)));
  }
  // The same with the row locked (SQLAlchemy's get(..., with_for_update=...)): always a
  // SELECT by key with the lock, whose row the session's object takes, as
  // Query::with_for_update(): s.get<Account>(id, strata::ForUpdate{}),
  // s.get<Job>(id, {.nowait = true}). Null also when skip_locked leaves a locked row out.
  template <class T, class K>
  std::shared_ptr<T> get(const K& key, ForUpdate lock) {
    return std::static_pointer_cast<T>(
        core_->get_fresh(mapper_of<T>(), detail::key_value(key), detail::row_lock(lock, "get")));
  }
  // The same without a lock (SQLAlchemy's get(..., populate_existing=True)): always a SELECT
  // by key, whose row the session's object takes, as Query::populate_existing():
  // s.get<User>(id, strata::populate_existing).
  template <class T, class K>
  std::shared_ptr<T> get(const K& key, PopulateExisting) {
    return std::static_pointer_cast<T>(
        core_->get_fresh(mapper_of<T>(), detail::key_value(key), std::nullopt));
  }

  template <class T>
  Query<T> query() {
    return Query<T>(*core_);
  }

  // Typed rows of values: s.select(col(&User::username), count(col(&Post::id)))
  // .join(&User::posts).group_by(&User::username).all() gives
  // std::vector<std::tuple<std::string, std::int64_t>>. The FROM table is the model of the
  // first column; s.query<T>().select(...) selects from T whatever the columns.
  template <class X, class... Xs>
  auto select(const X& first, const Xs&... rest) {
    using F = typename detail::first_model<typename detail::item_traits<X>::models_type>::type;
    static_assert(!std::is_void_v<F> && !detail::is_aliased<F>::value,
                  "strata: s.select(): the first column names no model to select FROM (an "
                  "aggregate of *, a table's or an alias's column); write "
                  "s.query<Model>().select(...)");
    if constexpr (!std::is_void_v<F> && !detail::is_aliased<F>::value)
      return Query<F>(*core_).select(first, rest...);
  }

  void flush() { core_->flush(); }
  void commit() { core_->commit(); }
  void rollback() { core_->rollback(); }
  // Rolls back and forgets every object.
  void close() { core_->close(); }
  template <class T>
  void refresh(const std::shared_ptr<T>& obj) {
    core_->refresh(mapper_of<T>(), obj.get());
  }
  template <class T>
  void expunge(const std::shared_ptr<T>& obj) {
    core_->expunge(obj.get());
  }
  void expunge_all() { core_->expunge_all(); }
  template <class T>
  bool contains(const std::shared_ptr<T>& obj) const {
    return core_->contains(obj.get());
  }
  template <class T>
  bool is_modified(const std::shared_ptr<T>& obj) const {
    return core_->is_modified(obj.get());
  }

  // Raw SQL with bound parameters (write ? or the dialect's placeholder), in the session's
  // transaction on the default database or on the bind named `bind`. Autoflushes first.
  Result execute(std::string_view sql, const std::vector<Value>& params = {},
                 std::string_view bind = {}) {
    return core_->execute(sql, params, bind);
  }

  void set_autoflush(bool on) { core_->autoflush = on; }
  bool autoflush() const { return core_->autoflush; }
  // Autoflush off for a scope, as SQLAlchemy's `with session.no_autoflush:`:
  //   { auto guard = s.no_autoflush(); ... }  // autoflush as it was from here on
  NoAutoflush no_autoflush() { return NoAutoflush(*core_); }

 private:
  std::unique_ptr<detail::SessionCore> core_;
};

}  // namespace strata
