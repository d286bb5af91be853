// Relationship fields that model structs hold: BelongsTo<T> (many-to-one), HasMany<T>
// (one-to-many, or many-to-many through an association table) and HasOne<T> (one-to-one).
// They work on plain objects; once the owner is in a session they load lazily through it and
// keep the other side in step in memory (back-populates).
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

namespace strata {

class RelationshipInfo;

namespace detail {

struct InstanceState;
struct SessionAccess;

// What both field kinds share: which object and relationship they belong to once the
// object is in a session. Copying a field copies whether it is loaded and changed, never
// that wiring.
class RelationField {
 public:
  RelationField() = default;
  RelationField(const RelationField& o) noexcept : changed_(o.changed_), loaded_(o.loaded_) {}
  RelationField& operator=(const RelationField&) noexcept { return *this; }
  ~RelationField() = default;

  // Whether the owner is in a session (lazy loading possible).
  bool attached() const noexcept { return owner_ != nullptr; }

 protected:
  // Implemented in the session: load through the owner's session. Throw
  // DetachedInstanceError when the owner is in no session.
  std::shared_ptr<void> load_target() const;
  std::vector<std::shared_ptr<void>> load_items() const;
  // HasOne: the one object, or null; MultipleResultsFound when several rows refer to the owner.
  std::shared_ptr<void> load_one() const;
  // Back-population hooks (no-ops when not attached).
  void on_target_changed(const std::shared_ptr<void>& old_target,
                         const std::shared_ptr<void>& new_target);
  // A many-to-one assigned while not loaded (attached): the previous object is the one the
  // session holds under the foreign key's value, if any (no SQL), and the foreign key's
  // value says whether there was one.
  void on_unloaded_target_changed(const std::shared_ptr<void>& new_target);
  void on_item_added(const std::shared_ptr<void>& item);
  void on_item_removed(const std::shared_ptr<void>& item);
  // Whether on_item_removed() refuses every item (InvalidRequestError): with no back
  // reference and no delete-orphan, a NOT NULL foreign key cannot let go. check_removal()
  // throws that refusal, for callers to give it before they change anything.
  bool removal_refused() const;
  void check_removal() const;
  // Throws InvalidRequestError when item (not null) is an object of another session than the
  // owner's, or one whose DELETE the owner's session flushed, before anything changes on
  // either side (SQLAlchemy refuses both at the append).
  void check_joinable(const void* item) const;
  [[noreturn]] void throw_not_loaded() const;
  // A collection holds objects: a null one (get() or first() that found nothing) is an
  // ArgumentError before anything changes.
  [[noreturn]] void throw_null_item() const;

  InstanceState* owner_ = nullptr;       // set by the session while the owner is attached
  const RelationshipInfo* rel_ = nullptr;
  bool changed_ = false;                 // assigned/appended since the last flush
  bool loaded_ = true;                   // false for objects loaded from the database until
                                         // first access
  bool raise_ = false;                   // accessing it unloaded throws (lazy='raise',
                                         // raiseload()) instead of loading

  friend struct SessionAccess;
};

}  // namespace detail

namespace detail {

// What BelongsTo and HasOne share: a field that holds at most one object, read like a
// pointer, loaded through the session on first access. D supplies fetch() (the load) and
// assign() (what setting another object does to both sides).
template <class T, class D>
class SingleRelation : public RelationField {
 public:
  SingleRelation() = default;
  SingleRelation(std::nullptr_t) {}  // NOLINT: implicit, like a pointer
  SingleRelation(std::shared_ptr<T> target)  // NOLINT: implicit, so Post{.author = user} reads well
      : target_(std::move(target)) {
    changed_ = target_ != nullptr;
  }
  SingleRelation(const SingleRelation& o) : RelationField(o), target_(o.target_) {}
  // Moving takes the object and the flags, never the session wiring (as copying); it does not
  // throw, so that a std::vector of models moves them when it grows.
  SingleRelation(SingleRelation&& o) noexcept : RelationField(o), target_(std::move(o.target_)) {}
  SingleRelation& operator=(const SingleRelation& o) {
    if (this != &o) static_cast<D*>(this)->assign(o.target_);
    return *this;
  }
  D& operator=(std::shared_ptr<T> target) {
    static_cast<D*>(this)->assign(std::move(target));
    return static_cast<D&>(*this);
  }
  D& operator=(std::nullptr_t) {
    static_cast<D*>(this)->assign(nullptr);
    return static_cast<D&>(*this);
  }

  // The object, loaded through the session on first access (null when there is none).
  const std::shared_ptr<T>& get() const {
    if (!loaded_) {
      if (!owner_) throw_not_loaded();
      auto* self = const_cast<SingleRelation*>(this);
      self->target_ = std::static_pointer_cast<T>(static_cast<const D*>(this)->fetch());
      self->loaded_ = true;
    }
    return target_;
  }
  T* operator->() const { return get().get(); }
  T& operator*() const { return *get(); }
  explicit operator bool() const { return get() != nullptr; }
  bool loaded() const noexcept { return loaded_; }

 protected:
  std::shared_ptr<T> target_;
};

}  // namespace detail

// Many-to-one: the object this one refers to through a foreign key, e.g. Post::author.
// Assigning an object (even a new one) fills the foreign key at flush, inserting it first.
template <class T>
class BelongsTo : public detail::SingleRelation<T, BelongsTo<T>> {
  using Base = detail::SingleRelation<T, BelongsTo<T>>;

 public:
  using Base::Base;
  using Base::operator=;

 private:
  friend Base;
  friend struct detail::SessionAccess;
  std::shared_ptr<void> fetch() const { return this->load_target(); }
  void assign(std::shared_ptr<T> target) {
    if (target) this->check_joinable(target.get());
    const bool was_loaded = this->loaded_;
    std::shared_ptr<void> old = was_loaded ? std::shared_ptr<void>(this->target_) : nullptr;
    this->target_ = std::move(target);
    this->loaded_ = true;
    this->changed_ = true;
    if (was_loaded) this->on_target_changed(old, this->target_);
    else this->on_unloaded_target_changed(this->target_);
  }
};

// One-to-many: the objects that refer to this one, e.g. User::posts. Loaded lazily on first
// access when the owner came from the database.
template <class T>
class HasMany : public detail::RelationField {
 public:
  using value_type = std::shared_ptr<T>;
  using const_iterator = typename std::vector<std::shared_ptr<T>>::const_iterator;

  HasMany() = default;
  // An object listed twice is held once, as append() would hold it.
  HasMany(std::initializer_list<std::shared_ptr<T>> items) : items_(distinct(items)) {
    changed_ = !items_.empty();
  }
  HasMany(const HasMany& o) : RelationField(o), items_(o.items_) {}
  // Moving takes the items and the flags, never the session wiring (as copying); it does not
  // throw, so that a std::vector of models moves them when it grows instead of copying.
  HasMany(HasMany&& o) noexcept
      : RelationField(o), items_(std::move(o.items_)), index_(std::move(o.index_)) {}
  HasMany& operator=(const HasMany& o) {
    if (this != &o) {
      auto items = distinct(o.all());
      for (const auto& item : items) {
        if (!item) throw_null_item();
        if (owner_) check_joinable(item.get());
      }
      // Unloaded and outside a session (a streamed object): no old items to let go of. Where
      // letting go is refused, the items listed again stay as they are, and one that is not
      // is refused before anything changes.
      if (loaded_ || owner_) {
        if (removal_refused()) {
          const std::unordered_set<const T*> listed = addresses(items);
          for (const auto& old : all())
            if (!listed.contains(old.get())) check_removal();
        } else {
          for (auto& old : all()) on_item_removed(old);
        }
      }
      index_.reset();
      items_ = std::move(items);
      loaded_ = true;  // holds what was assigned, not what a later load would find
      changed_ = true;
      for (auto& item : items_) on_item_added(item);
    }
    return *this;
  }

  const std::vector<std::shared_ptr<T>>& all() const {
    if (!loaded_) {
      if (!owner_) throw_not_loaded();
      auto* self = const_cast<HasMany*>(this);
      auto loaded = load_items();
      self->index_.reset();
      self->items_.clear();
      self->items_.reserve(loaded.size());
      for (auto& p : loaded) self->items_.push_back(std::static_pointer_cast<T>(p));
      self->loaded_ = true;
    }
    return items_;
  }
  const_iterator begin() const { return all().begin(); }
  const_iterator end() const { return all().end(); }
  std::size_t size() const { return all().size(); }
  bool empty() const { return all().empty(); }
  const std::shared_ptr<T>& operator[](std::size_t i) const { return all()[i]; }

  // Adds item (a no-op when it is already there); sets its back reference when declared.
  void append(std::shared_ptr<T> item) {
    if (!item) throw_null_item();
    all();
    if (holds(item.get())) return;
    check_joinable(item.get());
    push(item);
    changed_ = true;
    on_item_added(item);
  }
  void push_back(std::shared_ptr<T> item) { append(std::move(item)); }
  // Removes item; its back reference becomes null (its foreign key NULL at flush).
  void remove(const std::shared_ptr<T>& item) {
    all();
    auto it = std::find(items_.begin(), items_.end(), item);
    if (it == items_.end()) return;
    check_removal();
    auto keep = *it;
    if (index_) index_->erase(keep.get());
    items_.erase(it);
    changed_ = true;
    on_item_removed(keep);
  }
  bool loaded() const noexcept { return loaded_; }

 private:
  friend struct detail::SessionAccess;
  // items without the repeats of an object, in order (a long list is checked through a set
  // of addresses, so that assigning another object's collection stays linear).
  static std::unordered_set<const T*> addresses(const std::vector<std::shared_ptr<T>>& items) {
    std::unordered_set<const T*> out;
    out.reserve(items.size());
    for (const auto& item : items) out.insert(item.get());
    return out;
  }
  template <class R>
  static std::vector<std::shared_ptr<T>> distinct(const R& items) {
    constexpr std::size_t short_list = 16;
    std::vector<std::shared_ptr<T>> out;
    out.reserve(items.size());
    std::unordered_set<const T*> seen;
    for (const auto& item : items) {
      const bool repeat = items.size() <= short_list
                              ? std::find(out.begin(), out.end(), item) != out.end()
                              : !seen.insert(item.get()).second;
      if (!repeat) out.push_back(item);
    }
    return out;
  }
  // Whether items_ holds item. A long list is looked up in a set of its addresses, built on
  // first need and kept in step by this field's own changes, so that appending n objects one
  // by one (and the session putting n children in their parent's collection) stays linear
  // rather than n^2; a change made another way drops the set (SessionAccess::items).
  bool holds(const T* item) const {
    constexpr std::size_t indexed_from = 32;
    if (items_.size() < indexed_from && !index_) {
      for (const auto& p : items_)
        if (p.get() == item) return true;
      return false;
    }
    if (!index_) {
      auto index = std::make_unique<std::unordered_set<const T*>>(items_.size() * 2);
      for (const auto& p : items_) index->insert(p.get());
      index_ = std::move(index);  // (whole, or not at all when an insert throws)
    }
    return index_->contains(item);
  }
  void push(std::shared_ptr<T> item) {  // an item not held yet
    const T* address = item.get();
    items_.push_back(std::move(item));
    if (!index_) return;
    try {
      index_->insert(address);
    } catch (...) {
      index_.reset();  // only a shortcut: built again when next asked
    }
  }
  std::vector<std::shared_ptr<T>> items_;
  mutable std::unique_ptr<std::unordered_set<const T*>> index_;  // see holds()
};

// One-to-one: the single object that refers to this one through a foreign key on its side,
// e.g. User::profile (SQLAlchemy's uselist=False). Assigning another object releases the
// previous one: its foreign key becomes NULL at flush (or it is deleted, with the
// delete-orphan cascade).
template <class T>
class HasOne : public detail::SingleRelation<T, HasOne<T>> {
  using Base = detail::SingleRelation<T, HasOne<T>>;

 public:
  using Base::Base;
  using Base::operator=;

 private:
  friend Base;
  friend struct detail::SessionAccess;
  std::shared_ptr<void> fetch() const { return this->load_one(); }
  void assign(std::shared_ptr<T> target) {
    // The previous object must be known to be released: load it first.
    std::shared_ptr<T> old = (this->loaded_ || this->owner_) ? this->get() : nullptr;
    if (old && old != target) this->check_removal();
    if (target && old != target) this->check_joinable(target.get());
    this->target_ = std::move(target);
    this->loaded_ = true;
    this->changed_ = true;
    if (old == this->target_) return;
    if (old) this->on_item_removed(old);
    if (this->target_) this->on_item_added(this->target_);
  }
};

}  // namespace strata
