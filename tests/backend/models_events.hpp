// Models of the event tests (test_events.cpp): notes whose handlers stamp a revision and a
// time, and an audit table that handlers write to through the flush's connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "strata/strata.hpp"

struct Note {
  std::int64_t id = 0;
  std::string text{};
  std::int32_t revision = 0;
  std::optional<strata::DateTime> updated_at{};
};

// Written by handlers with raw SQL: what happened to which note.
struct AuditEntry {
  std::int64_t id = 0;
  std::string action{};
  std::int64_t note_id = 0;
};

template <>
struct strata::Model<Note> {
  static constexpr auto table = "note";
  static constexpr auto name = "Note";
  static auto columns() {
    return mapping(column("id", &Note::id).primary_key(), column("text", &Note::text),
                   column("revision", &Note::revision), column("updated_at", &Note::updated_at));
  }
};

template <>
struct strata::Model<AuditEntry> {
  static constexpr auto table = "audit_entry";
  static constexpr auto name = "AuditEntry";
  static auto columns() {
    return mapping(column("id", &AuditEntry::id).primary_key(),
                   column("action", &AuditEntry::action).length(40),
                   column("note_id", &AuditEntry::note_id));
  }
};
