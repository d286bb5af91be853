// Database::events(): registering and removing handlers (copy-on-write tables), the names of
// events, and the log of a transaction's writes behind the track_modifications signals.
#include <algorithm>
#include <exception>

#include "strata/error.hpp"

#include "events_internal.hpp"
#include "session_internal.hpp"

namespace strata {

std::string_view to_string(Event e) noexcept {
  switch (e) {
    case Event::before_insert: return "before_insert";
    case Event::after_insert: return "after_insert";
    case Event::before_update: return "before_update";
    case Event::after_update: return "after_update";
    case Event::before_delete: return "before_delete";
    case Event::after_delete: return "after_delete";
  }
  return "?";
}

std::string_view to_string(SessionEvent e) noexcept {
  switch (e) {
    case SessionEvent::before_flush: return "before_flush";
    case SessionEvent::after_flush: return "after_flush";
    case SessionEvent::before_commit: return "before_commit";
    case SessionEvent::after_commit: return "after_commit";
    case SessionEvent::after_rollback: return "after_rollback";
  }
  return "?";
}

std::string_view to_string(Signal s) noexcept {
  switch (s) {
    case Signal::before_models_committed: return "before_models_committed";
    case Signal::models_committed: return "models_committed";
  }
  return "?";
}

std::string_view to_string(ModelOperation op) noexcept {
  switch (op) {
    case ModelOperation::insert: return "insert";
    case ModelOperation::update: return "update";
    case ModelOperation::delete_: return "delete";
  }
  return "?";
}

namespace {
template <class E>
std::size_t slot(E e, std::size_t count, std::string_view kind) {
  const auto i = static_cast<std::size_t>(e);
  if (i >= count)
    throw ArgumentError("listen(): " + std::string(kind) + " " + std::to_string(i) +
                        " is not one of strata's " + std::string(kind) + "s");
  return i;
}
}  // namespace

ListenerId Events::add(const Mapper& m, Event event, detail::ObjectHandler handler) {
  return registry_->add(m, event, std::move(handler));
}
ListenerId Events::add(SessionEvent event, detail::SessionHandler handler) {
  return registry_->add(event, std::move(handler));
}
ListenerId Events::add(Signal signal, detail::ChangesHandler handler) {
  return registry_->add(signal, std::move(handler));
}
void Events::remove(ListenerId id) { registry_->remove(id); }
bool Events::track_modifications() const noexcept { return registry_->track_modifications(); }

namespace detail {

const EventTable::ModelListeners* EventTable::for_mapper(const Mapper& m) const noexcept {
  for (const auto& ml : models)
    if (ml.mapper == &m) return &ml;
  return nullptr;
}

bool EventTable::empty() const noexcept {
  auto none = [](const auto& lists) {
    return std::all_of(lists.begin(), lists.end(), [](const auto& l) { return l.empty(); });
  };
  return models.empty() && none(session) && none(signals);
}

template <class Edit>
void EventRegistry::update(Edit&& edit) {
  std::lock_guard lock(mutex_);
  auto next = table_ ? std::make_shared<EventTable>(*table_) : std::make_shared<EventTable>();
  edit(*next);
  if (next->empty()) {
    table_.reset();
    any_.store(false, std::memory_order_release);
  } else {
    table_ = std::move(next);
    any_.store(true, std::memory_order_release);
  }
}

ListenerId EventRegistry::add(const Mapper& m, Event e, ObjectHandler h) {
  const auto i = slot(e, 6, "model event");
  if (!h) throw ArgumentError("listen(" + std::string(to_string(e)) + "): empty handler");
  m.configure();
  ListenerId id = 0;
  update([&](EventTable& t) {
    id = next_id_++;
    auto it = std::find_if(t.models.begin(), t.models.end(),
                           [&](const auto& ml) { return ml.mapper == &m; });
    if (it == t.models.end()) {
      t.models.emplace_back();
      it = std::prev(t.models.end());
      it->mapper = &m;
    }
    it->by_event[i].push_back({id, std::move(h)});
  });
  return id;
}

ListenerId EventRegistry::add(SessionEvent e, SessionHandler h) {
  const auto i = slot(e, 5, "session event");
  if (!h) throw ArgumentError("listen(" + std::string(to_string(e)) + "): empty handler");
  ListenerId id = 0;
  update([&](EventTable& t) {
    id = next_id_++;
    t.session[i].push_back({id, std::move(h)});
  });
  return id;
}

ListenerId EventRegistry::add(Signal s, ChangesHandler h) {
  const auto i = slot(s, 2, "signal");
  if (!track_modifications_)
    throw ArgumentError(std::string(to_string(s)) +
                        " is sent only when the Database tracks modifications, and this one "
                        "does not; construct it with DatabaseOptions{.track_modifications = "
                        "true}");
  if (!h) throw ArgumentError("listen(" + std::string(to_string(s)) + "): empty handler");
  ListenerId id = 0;
  update([&](EventTable& t) {
    id = next_id_++;
    t.signals[i].push_back({id, std::move(h)});
  });
  return id;
}

void EventRegistry::remove(ListenerId id) {
  bool found = false;
  auto drop = [&](auto& list) {
    auto n = std::erase_if(list, [&](const auto& l) { return l.id == id; });
    found = found || n > 0;
  };
  update([&](EventTable& t) {
    for (auto& ml : t.models)
      for (auto& list : ml.by_event) drop(list);
    std::erase_if(t.models, [](const auto& ml) {
      return std::all_of(ml.by_event.begin(), ml.by_event.end(),
                         [](const auto& l) { return l.empty(); });
    });
    for (auto& list : t.session) drop(list);
    for (auto& list : t.signals) drop(list);
  });
  if (!found)
    throw ArgumentError("remove(): no handler with id " + std::to_string(id) +
                        " is registered on this Database (already removed?)");
}

void ModelChanges::record(const InstanceState& s, ModelOperation op) {
  auto [it, fresh] = index_.try_emplace(s.obj.get(), list_.size());
  if (fresh) {
    list_.push_back(ModelChange{s.obj, s.mapper, op});
    return;
  }
  auto& entry = list_[it->second];
  // New in this transaction stays an insert when updated; a delete ends every story.
  if (op == ModelOperation::delete_ || entry.operation == ModelOperation::delete_)
    entry.operation = op;
}

std::vector<ModelChange> ModelChanges::take() {
  index_.clear();
  return std::exchange(list_, {});
}

void ModelChanges::clear() noexcept {
  index_.clear();
  list_.clear();
}

std::string current_exception_message() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

}  // namespace detail
}  // namespace strata
