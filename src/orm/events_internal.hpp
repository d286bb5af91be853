// Private to the ORM: the registry behind Database::events(), and the log of what a
// transaction wrote for the track_modifications signals. The flush (flush.cpp) and
// commit / rollback (session_core.cpp) read a snapshot of the registry and call the handlers.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "strata/orm/events.hpp"

namespace strata::detail {

struct InstanceState;

template <class H>
struct Listener {
  ListenerId id = 0;
  H handler;
};

// The handlers registered at one moment. Never changed once published: registering or
// removing builds a new table, so a flush or commit that holds one runs with the same handlers
// from start to end, even when a handler removes itself.
struct EventTable {
  struct ModelListeners {
    const Mapper* mapper = nullptr;
    std::array<std::vector<Listener<ObjectHandler>>, 6> by_event;  // indexed by Event
    const std::vector<Listener<ObjectHandler>>& operator[](Event e) const {
      return by_event[static_cast<std::size_t>(e)];
    }
  };
  std::vector<ModelListeners> models;  // a few models at most: searched in order
  std::array<std::vector<Listener<SessionHandler>>, 5> session;  // indexed by SessionEvent
  std::array<std::vector<Listener<ChangesHandler>>, 2> signals;  // indexed by Signal

  // The handlers of m's events, or null when m has none.
  const ModelListeners* for_mapper(const Mapper& m) const noexcept;
  const std::vector<Listener<SessionHandler>>& operator[](SessionEvent e) const {
    return session[static_cast<std::size_t>(e)];
  }
  const std::vector<Listener<ChangesHandler>>& operator[](Signal s) const {
    return signals[static_cast<std::size_t>(s)];
  }
  bool empty() const noexcept;
};

// One per Database (DatabaseCore::events).
class EventRegistry {
 public:
  explicit EventRegistry(bool track_modifications) : track_modifications_(track_modifications) {}

  // The handlers now, or null when none is registered: the cost of events for a flush or
  // commit that has none is this one load.
  std::shared_ptr<const EventTable> snapshot() const {
    if (!any_.load(std::memory_order_acquire)) return nullptr;
    std::lock_guard lock(mutex_);
    return table_;
  }
  bool track_modifications() const noexcept { return track_modifications_; }

  ListenerId add(const Mapper& m, Event e, ObjectHandler h);
  ListenerId add(SessionEvent e, SessionHandler h);
  ListenerId add(Signal s, ChangesHandler h);
  void remove(ListenerId id);

 private:
  // Applies edit to a copy of the table and publishes the copy.
  template <class Edit>
  void update(Edit&& edit);

  const bool track_modifications_;
  mutable std::mutex mutex_;
  std::shared_ptr<const EventTable> table_;  // null while nothing is registered
  std::atomic<bool> any_{false};
  ListenerId next_id_ = 1;
};

// With track_modifications: the objects the session's transaction has written, one entry per
// object (see ModelChange). Cleared by commit and rollback.
class ModelChanges {
 public:
  void record(const InstanceState& s, ModelOperation op);
  bool empty() const noexcept { return list_.empty(); }
  const std::vector<ModelChange>& list() const noexcept { return list_; }
  // Empties the log and hands its entries over.
  std::vector<ModelChange> take();
  void clear() noexcept;

 private:
  std::vector<ModelChange> list_;
  std::unordered_map<const void*, std::size_t> index_;  // object -> its entry in list_
};

// Calling the handlers of one event, in the order registered. An exception from one goes to
// the caller; the handlers after it do not run.
template <class H, class... Args>
void fire(const std::vector<Listener<H>>& handlers, Args&&... args) {
  for (const auto& l : handlers) l.handler(args...);
}

// The message of the exception being handled (inside a catch block).
std::string current_exception_message();

}  // namespace strata::detail
