// Errors of the migration layer. Each carries the data a caller needs (the heads, the
// candidates, the file and line), and what() is one line a CLI can print as is.
#pragma once

#include <string>
#include <vector>

#include "strata/error.hpp"

namespace strata::migrate {

// A command cannot be carried out as asked (bad arguments, nothing to do where something
// was required, a file that would be overwritten).
class CommandError : public Error {
 public:
  using Error::Error;
};

// A revision identifier or the revision graph is wrong.
class RevisionError : public CommandError {
 public:
  using CommandError::CommandError;
};

class UnknownRevisionError : public RevisionError {
 public:
  UnknownRevisionError(const std::string& message, std::string spec)
      : RevisionError(message), spec_(std::move(spec)) {}
  const std::string& spec() const noexcept { return spec_; }

 private:
  std::string spec_;
};

class AmbiguousRevisionError : public RevisionError {
 public:
  AmbiguousRevisionError(const std::string& message, std::string spec,
                         std::vector<std::string> candidates)
      : RevisionError(message), spec_(std::move(spec)), candidates_(std::move(candidates)) {}
  const std::string& spec() const noexcept { return spec_; }
  const std::vector<std::string>& candidates() const noexcept { return candidates_; }

 private:
  std::string spec_;
  std::vector<std::string> candidates_;
};

// "head" was asked for while the graph has several: the user must merge or name one.
class MultipleHeadsError : public RevisionError {
 public:
  MultipleHeadsError(const std::string& message, std::vector<std::string> heads)
      : RevisionError(message), heads_(std::move(heads)) {}
  const std::vector<std::string>& heads() const noexcept { return heads_; }

 private:
  std::vector<std::string> heads_;
};

// An operation has no inverse (raw SQL without reverse, a call without reverse callback).
class IrreversibleError : public CommandError {
 public:
  using CommandError::CommandError;
};

// A migration file cannot be read: what() is "path:line: what is wrong".
class MigrationFileError : public CommandError {
 public:
  MigrationFileError(const std::string& message, std::string path, int line)
      : CommandError(message), path_(std::move(path)), line_(line) {}
  const std::string& path() const noexcept { return path_; }
  int line() const noexcept { return line_; }  // 1-based; 0 when not line-specific

 private:
  std::string path_;
  int line_;
};

// Operations that do not fit the schema they are applied to (a column added twice, a table
// dropped that does not exist), found when folding the chain into a schema state.
class StateError : public CommandError {
 public:
  using CommandError::CommandError;
};

}  // namespace strata::migrate
