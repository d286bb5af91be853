// Models of the event tests (test_events.cpp): notes whose handlers stamp a revision and a
// time, and an audit table that handlers write to through the flush's connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "strata/strata.hpp"

struct Draft {
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
struct strata::Model<Draft> {
  static constexpr auto table = "draft";
  static constexpr auto name = "Draft";
  static auto columns() {
    return mapping(column("id", &Draft::id).primary_key(), column("text", &Draft::text),
                   column("revision", &Draft::revision), column("updated_at", &Draft::updated_at));
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
