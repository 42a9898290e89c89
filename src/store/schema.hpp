// The store's schema and its version (PRAGMA user_version).
#pragma once

#include "store/sqlite.hpp"

namespace ws::store {

/// The schema version this build writes and reads.
inline constexpr int kSchemaVersion = 5;

/// Creates the tables in an empty database, or migrates an older one step by step to this version
/// (every table is created by a migration); a newer version is refused. Safe when several
/// connections open a new file at once. Throws StoreError.
void ensure_schema(Database& db);

}  // namespace ws::store
