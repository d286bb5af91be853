// Must not compile: a loader option naming a relationship of another model than the query's.
#include "strata/strata.hpp"

struct Author;
struct Article {
  std::int64_t id = 0;
  std::int64_t author_id = 0;
  strata::BelongsTo<Author> author{};
};
struct Author {
  std::int64_t id = 0;
  strata::HasMany<Article> articles{};
};
template <>
struct strata::Model<Article> {
  static constexpr auto table = "article";
  static auto columns() {
    return mapping(column("id", &Article::id).primary_key(),
                   column("author_id", &Article::author_id).references(&Author::id),
                   belongs_to("author", &Article::author, &Article::author_id));
  }
};
template <>
struct strata::Model<Author> {
  static constexpr auto table = "author";
  static auto columns() {
    return mapping(column("id", &Author::id).primary_key(), has_many("articles", &Author::articles));
  }
};

void use(strata::Session& s) {
  s.query<Author>().options(strata::joinedload(&Article::author)).all();
}
