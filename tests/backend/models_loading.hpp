// Models of the loading-strategy tests (test_loading.cpp): relationships whose mapping
// chooses a strategy. A shelf's books load selectin, a book's shelf joined, a book's notes
// never implicitly (lazy='raise'); a note's book lazily (the default). backend.cpp registers
// them with every test's Database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "strata/strata.hpp"

struct Book;
struct Note;

struct Shelf {
  std::int64_t id = 0;
  std::string name{};
  strata::HasMany<Book> books{};
  strata::HasMany<Note> unmapped{};  // not in the mapping: loader options refuse it
};

struct Book {
  std::int64_t id = 0;
  std::string title{};
  std::optional<std::int64_t> shelf_id{};
  strata::BelongsTo<Shelf> shelf{};
  strata::HasMany<Note> notes{};
};

struct Note {
  std::int64_t id = 0;
  std::string text{};
  std::int64_t book_id = 0;
  strata::BelongsTo<Book> book{};
};

template <>
struct strata::Model<Shelf> {
  static constexpr auto table = "shelf";
  static constexpr auto name = "Shelf";
  static auto columns() {
    return mapping(column("id", &Shelf::id).primary_key(), column("name", &Shelf::name).length(40),
                   has_many("books", &Shelf::books)
                       .back_populates(&Book::shelf)
                       .lazy(strata::Loading::selectin));
  }
};

template <>
struct strata::Model<Book> {
  static constexpr auto table = "book";
  static constexpr auto name = "Book";
  static auto columns() {
    return mapping(
        column("id", &Book::id).primary_key(), column("title", &Book::title).length(80),
        column("shelf_id", &Book::shelf_id).references(&Shelf::id),
        belongs_to("shelf", &Book::shelf, &Book::shelf_id)
            .back_populates(&Shelf::books)
            .lazy(strata::Loading::joined),
        has_many("notes", &Book::notes).back_populates(&Note::book).lazy(strata::Loading::raise));
  }
};

template <>
struct strata::Model<Note> {
  static constexpr auto table = "note";
  static constexpr auto name = "Note";
  static auto columns() {
    return mapping(column("id", &Note::id).primary_key(), column("text", &Note::text).text(),
                   column("book_id", &Note::book_id).references(&Book::id),
                   belongs_to("book", &Note::book, &Note::book_id).back_populates(&Book::notes));
  }
};
