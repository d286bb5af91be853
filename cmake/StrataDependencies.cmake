# System dependencies, found through CMake's own modules or pkg-config. Nothing is copied in.
find_package(SQLite3 REQUIRED)
find_package(Threads REQUIRED)
