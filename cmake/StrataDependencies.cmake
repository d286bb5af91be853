# System dependencies, found through CMake's own modules or pkg-config. Nothing is copied in.
find_package(SQLite3 REQUIRED)
find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)  # migration files
find_package(CLI11 CONFIG REQUIRED)  # the db command line
find_package(absl CONFIG REQUIRED)  # hash tables of the session (src/orm/state_table.cpp)
find_package(PkgConfig REQUIRED)
pkg_check_modules(libpq REQUIRED IMPORTED_TARGET libpq)  # the PostgreSQL dialect
