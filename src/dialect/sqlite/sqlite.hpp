// Private to the SQLite dialect: the dialect class, the driver entry point and the error
// explainer. Only files in this folder include <sqlite3.h>.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "strata/dialect/dialect.hpp"

namespace strata::dialect::sqlite {

class SqliteDialect final : public Dialect {
 public:
  // sql::SqlDialect
  bool is_keyword(std::string_view lower_name) const override;
  std::string placeholder(std::size_t n) const override;
  bool supports_returning() const override { return true; }  // SQLite >= 3.35
  bool supports_ilike() const override { return false; }
  std::string limit_clause(const std::optional<std::int64_t>& limit,
                           const std::optional<std::int64_t>& offset) const override;

  // engine::Driver
  std::unique_ptr<engine::Connection> connect(const engine::Url& url,
                                              const engine::ConnectOptions& options) override;
  bool single_connection(const engine::Url& url) const override;

  // Dialect
  std::string_view name() const override { return "sqlite"; }
  bool names_violated_constraints() const override { return false; }
  std::string type_sql(const schema::Type& t) const override;
  // An autoincrement column is declared exactly INTEGER, whatever its integer kind: only then
  // does SQLite make the single-column primary key the rowid alias that assigns ids.
  std::string column_sql(const schema::Table& t, const schema::Column& c) const override;
  IntegrityError explain_integrity_error(const IntegrityError& e, const RowContext& row,
                                         engine::Connection& conn,
                                         const schema::MetaData& metadata) const override;
};

// sqlite_connection.cpp: opens a connection (foreign keys on, busy timeout set).
std::unique_ptr<engine::Connection> open_connection(const engine::Url& url,
                                                    const engine::ConnectOptions& options);

// sqlite_errors.cpp: names the constraint behind an SQLite constraint failure.
IntegrityError explain_integrity_error(const IntegrityError& e, const RowContext& row,
                                       engine::Connection& conn,
                                       const schema::MetaData& metadata);

}  // namespace strata::dialect::sqlite
