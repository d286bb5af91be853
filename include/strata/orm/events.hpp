// Events: functions the ORM calls at points of the unit of work — per model around each row's
// INSERT / UPDATE / DELETE (SQLAlchemy's mapper events), per session around flush, commit and
// rollback (its session events), and Flask-SQLAlchemy's signals before_models_committed /
// models_committed. Handlers are registered on a Database (db.events()), so databases, and
// tests, never see each other's handlers. This header is the typed front; the registry and
// the dispatch are compiled code (src/orm/events.cpp, flush.cpp, session_core.cpp).
//
//   auto id = db.events().listen<User>(strata::Event::before_update,
//       [](User& u, strata::engine::Connection&) { u.updated_at = strata::utc_now(); });
//   db.events().listen(strata::SessionEvent::after_commit, [](strata::Session&) { ... });
//   db.events().remove(id);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "strata/engine/connection.hpp"
#include "strata/orm/mapping.hpp"

namespace strata {

class Session;

// A model's events, sent by the flush for each object of that model. The handler gets the
// object and the session's connection, inside the flush's transaction.
enum class Event {
  before_insert,  // before the INSERT: changes to the object are written
  after_insert,   // after the INSERTs of the model's new objects (keys assigned)
  before_update,  // before the UPDATE of an object whose columns changed: changes are written
  after_update,   // after the UPDATEs of the model's changed objects
  before_delete,  // before the DELETE
  after_delete,   // after the DELETEs of the model's deleted objects
};

// A session's events. The handler gets the session.
enum class SessionEvent {
  before_flush,    // a flush has work to do and has not begun it; may add, change, delete objects
  after_flush,     // the flush's statements ran and the session's bookkeeping is done
  before_commit,   // commit() was called; its flush has not run yet
  after_commit,    // the transaction is committed
  after_rollback,  // the database transaction was rolled back (rollback(), or a failed flush)
};

// Flask-SQLAlchemy's signals: the objects a commit wrote. Only with
// DatabaseOptions::track_modifications.
enum class Signal {
  before_models_committed,  // after commit()'s flush, before COMMIT
  models_committed,         // after COMMIT
};

std::string_view to_string(Event e) noexcept;
std::string_view to_string(SessionEvent e) noexcept;
std::string_view to_string(Signal s) noexcept;

// What a commit did to an object.
enum class ModelOperation { insert, update, delete_ };
// "insert", "update", "delete".
std::string_view to_string(ModelOperation op) noexcept;

// One object a transaction wrote: what the signals deliver, one per object, in the order the
// objects were first written. An object inserted and then updated in the same transaction is
// an insert; one deleted after an insert or update is a delete.
struct ModelChange {
  std::shared_ptr<void> object;
  const Mapper* mapper = nullptr;
  ModelOperation operation = ModelOperation::insert;

  // The object as a T, or null when it is not a T.
  template <class T>
  std::shared_ptr<T> as() const {
    return mapper == &mapper_of<T>() ? std::static_pointer_cast<T>(object) : nullptr;
  }
  // The model's name ("User").
  const std::string& model() const { return mapper->class_name; }
};

// Names a registered handler, for Events::remove.
using ListenerId = std::uint64_t;

namespace detail {
class EventRegistry;
using ObjectHandler = std::function<void(void* object, engine::Connection& connection)>;
using SessionHandler = std::function<void(Session& session)>;
using ChangesHandler =
    std::function<void(Session& session, const std::vector<ModelChange>& changes)>;
template <class>
inline constexpr bool wrong_handler = false;
// A handler that may hold nothing: a std::function or a function pointer.
template <class F>
inline constexpr bool may_be_empty = std::is_pointer_v<F>;
template <class R, class... A>
inline constexpr bool may_be_empty<std::function<R(A...)>> = true;
}  // namespace detail

// The handlers of one Database: db.events(). Several handlers of one event run in the order
// they were registered. Register them while setting the database up: a handler added while
// another thread flushes may miss that flush (each flush and commit reads the handlers once).
//
// A handler that throws aborts what it is part of, as a failed statement would: before_flush,
// the model events, after_flush, before_commit and before_models_committed roll the
// transaction back, and the session refuses work until rollback(). after_commit,
// models_committed and after_rollback run after the fact: the exception reaches the caller
// of commit() / rollback(), the remaining handlers of that event do not run, and the commit
// or rollback stands.
class Events {
 public:
  explicit Events(detail::EventRegistry& registry) noexcept : registry_(&registry) {}

  // handler(T& object, strata::engine::Connection& connection).
  template <class T, class F>
  ListenerId listen(Event event, F handler) {
    if constexpr (std::is_invocable_v<F&, T&, engine::Connection&>) {
      if constexpr (detail::may_be_empty<F>)
        if (!handler) return add(mapper_of<T>(), event, nullptr);  // refused: ArgumentError
      return add(mapper_of<T>(), event,
                 [h = std::move(handler)](void* obj, engine::Connection& c) mutable {
                   h(*static_cast<T*>(obj), c);
                 });
    } else {
      static_assert(detail::wrong_handler<F>,
                    "strata: a model event handler is called as handler(T& object, "
                    "strata::engine::Connection& connection); write "
                    "[](User& u, strata::engine::Connection& c) { ... } for listen<User>");
      return 0;
    }
  }

  // handler(strata::Session& session).
  template <class F>
  ListenerId listen(SessionEvent event, F handler) {
    if constexpr (std::is_invocable_v<F&, Session&>) {
      return add(event, detail::SessionHandler(std::move(handler)));
    } else {
      static_assert(detail::wrong_handler<F>,
                    "strata: a session event handler is called as handler(strata::Session& "
                    "session); write [](strata::Session& s) { ... }");
      return 0;
    }
  }

  // handler(strata::Session& session, const std::vector<strata::ModelChange>& changes).
  // ArgumentError unless the Database tracks modifications.
  template <class F>
  ListenerId listen(Signal signal, F handler) {
    if constexpr (std::is_invocable_v<F&, Session&, const std::vector<ModelChange>&>) {
      return add(signal, detail::ChangesHandler(std::move(handler)));
    } else {
      static_assert(detail::wrong_handler<F>,
                    "strata: a signal receiver is called as handler(strata::Session& session, "
                    "const std::vector<strata::ModelChange>& changes)");
      return 0;
    }
  }

  // Unregisters a handler. ArgumentError when no handler has this id (never registered here,
  // or already removed).
  void remove(ListenerId id);

  // Whether the Database records the objects each transaction writes
  // (DatabaseOptions::track_modifications), which the signals need.
  bool track_modifications() const noexcept;

 private:
  ListenerId add(const Mapper& m, Event event, detail::ObjectHandler handler);
  ListenerId add(SessionEvent event, detail::SessionHandler handler);
  ListenerId add(Signal signal, detail::ChangesHandler handler);
  detail::EventRegistry* registry_;
};

}  // namespace strata
