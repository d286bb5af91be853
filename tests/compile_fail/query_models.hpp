// Models with relationships for the compile-fail cases of joins, aggregates and subqueries;
// each case adds exactly one mistake.
#pragma once

#include <cstdint>
#include <string>

#include "models.hpp"

struct Article;
struct Author {
  std::int64_t id = 0;
  std::string name{};
  strata::HasMany<Article> articles{};
};
struct Article {
  std::int64_t id = 0;
  std::string title{};
  std::int64_t author_id = 0;
  strata::BelongsTo<Author> author{};
};
template <>
struct strata::Model<Author> {
  static constexpr auto table = "author";
  static auto columns() {
    return mapping(column("id", &Author::id).primary_key(), column("name", &Author::name),
                   has_many("articles", &Author::articles).back_populates(&Article::author));
  }
};
template <>
struct strata::Model<Article> {
  static constexpr auto table = "article";
  static auto columns() {
    return mapping(column("id", &Article::id).primary_key(), column("title", &Article::title),
                   column("author_id", &Article::author_id).references(&Author::id),
                   belongs_to("author", &Article::author, &Article::author_id)
                       .back_populates(&Author::articles));
  }
};
