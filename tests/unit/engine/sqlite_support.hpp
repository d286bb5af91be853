// Helpers for the engine tests that run on real SQLite databases: a temporary folder that
// cleans up after itself, and connections opened through the SQLite driver.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "strata/engine/connection.hpp"
#include "strata/engine/engine.hpp"
#include "strata/engine/url.hpp"

#include "dialect/sqlite/sqlite.hpp"

namespace strata::testing {

// A fresh folder under the system temp folder, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> serial{0};
    path_ = std::filesystem::temp_directory_path() /
            ("strata-engine-" + std::to_string(::getpid()) + "-" + std::to_string(++serial));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  // "sqlite:////tmp/.../name" for a file in this folder.
  std::string url(const std::string& name) const { return "sqlite:///" + (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<engine::Connection> open_sqlite(const std::string& url,
                                                       engine::ConnectOptions options = {}) {
  return dialect::sqlite::open_connection(engine::Url::parse(url), options);
}

inline std::unique_ptr<engine::Connection> open_memory() { return open_sqlite("sqlite://"); }

// The SQLite driver without the rest of the dialect: what the Engine needs to open connections.
class SqliteDriver : public engine::Driver {
 public:
  std::unique_ptr<engine::Connection> connect(const engine::Url& url,
                                              const engine::ConnectOptions& options) override {
    ++opened;
    return dialect::sqlite::open_connection(url, options);
  }
  bool single_connection(const engine::Url& url) const override { return url.is_memory(); }
  std::atomic<int> opened{0};  // connections opened so far
};

// The number the first column of the first row of sql holds.
inline std::int64_t query_int(engine::Connection& c, const std::string& sql) {
  auto stmt = c.prepare(sql);
  if (!stmt->step()) return -1;
  return stmt->get_int64(0);
}

}  // namespace strata::testing
