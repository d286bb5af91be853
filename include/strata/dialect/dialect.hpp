// A dialect is everything that differs per backend: how SQL is spelled (sql::SqlDialect),
// how connections are opened (engine::Driver), type names and DDL, and how constraint
// failures are explained. The ORM talks to this interface only, through capability flags.
// Concrete dialects live in dialect/<name>/; for_url() is the one place that lists them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/engine/connection.hpp"
#include "strata/engine/engine.hpp"
#include "strata/engine/url.hpp"
#include "strata/error.hpp"
#include "strata/schema/table.hpp"
#include "strata/sql/compiler.hpp"

namespace strata::dialect {

// The row a failed statement was writing, as the ORM knows it: enough to find which
// constraint it broke when the database does not say.
struct RowContext {
  enum class Operation { insert, update, delete_ };
  std::string table;
  Operation operation = Operation::insert;
  // Column values: those written (insert/update), or at least the key (delete).
  std::vector<std::pair<std::string, Value>> values;
};

class Dialect : public sql::SqlDialect, public engine::Driver {
 public:
  virtual std::string_view name() const = 0;  // "sqlite", "postgresql"

  // Whether the database reports the name of a violated foreign key or unique constraint.
  // When not, explain_integrity_error() works it out from the schema.
  virtual bool names_violated_constraints() const = 0;

  // The SQL type for t, e.g. VARCHAR(64), INTEGER, DATETIME.
  virtual std::string type_sql(const schema::Type& t) const = 0;

  // CREATE TABLE (columns, named primary key, unique, foreign key and check constraints),
  // then CREATE INDEX for each index. Every constraint carries its name.
  virtual std::vector<std::string> create_table_sql(const schema::Table& t) const;
  virtual std::vector<std::string> drop_table_sql(const schema::Table& t) const;
  // Column definition inside CREATE TABLE: name, type, NOT NULL, DEFAULT.
  virtual std::string column_sql(const schema::Table& t, const schema::Column& c) const;

  // Makes e's message and constraint() name the constraint that failed and its table, using
  // the schema in metadata, the row being written, and where needed queries on conn (e.g.
  // which table still holds rows that refer to a row being deleted, or which referred row
  // is missing for an insert). Returns the improved error; a copy of e when nothing is
  // learnt. Never throws. Example message:
  //   delete from 'user' violates foreign key 'fk_post_user_id_user' on table 'post':
  //   rows in 'post' still refer to it
  virtual IntegrityError explain_integrity_error(const IntegrityError& e, const RowContext& row,
                                                 engine::Connection& conn,
                                                 const schema::MetaData& metadata) const;
};

// The dialect for url.backend(); throws ArgumentError naming the supported backends.
std::shared_ptr<Dialect> for_url(const engine::Url& url);

}  // namespace strata::dialect
