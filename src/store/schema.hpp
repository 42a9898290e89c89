// The store's schema and its version (PRAGMA user_version).
#pragma once

#include "store/sqlite.hpp"

namespace ws::store {

/// The schema version this build writes and reads.
inline constexpr int kSchemaVersion = 2;

/// Creates the tables in an empty database, or checks an existing one has a version this build
/// understands. Safe when several connections open a new file at once. Throws StoreError.
void ensure_schema(Database& db);

}  // namespace ws::store
