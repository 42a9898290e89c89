// RAII wrappers over the SQLite C API: a connection, a prepared statement, a write transaction.
// Every failure throws StoreError carrying the database path and SQLite's message.
#pragma once

#include "waferscan/error.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace ws::store {

class Database;

/// One prepared statement. Parameters are 1-based, columns 0-based (as in SQLite). The statement
/// is finalized on destruction, which also ends any read it left open.
class Statement {
 public:
  Statement(Database& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;

  Statement& bind_int(int index, std::int64_t value);
  Statement& bind_real(int index, double value);
  Statement& bind_real(int index, std::optional<double> value);  ///< nullopt binds NULL
  Statement& bind_text(int index, std::string_view value);
  /// bind_text without SQLite's copy of the value: `value` must outlive the statement's step.
  Statement& bind_text_static(int index, std::string_view value);
  Statement& bind_null(int index);

  /// Advances: true when a row is available, false when done. Throws StoreError on failure.
  bool step();
  /// Runs a statement that returns no rows.
  void run();
  /// Rewinds and clears the bindings so the statement can be run again.
  void reset() noexcept;

  [[nodiscard]] std::int64_t column_int(int col) const noexcept;
  [[nodiscard]] double column_real(int col) const noexcept;
  [[nodiscard]] std::optional<double> column_optional_real(int col) const noexcept;
  [[nodiscard]] std::string column_text(int col) const;

 private:
  Database* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// How a connection opens its file.
enum class OpenMode {
  create,     ///< read-write, creating the file if needed
  read_only,  ///< read-only; the file must exist
  immutable,  ///< read-only on a file nothing can change (a read-only mount): no locks, no -shm
};

/// An open connection. Not thread-safe: one thread at a time.
class Database {
 public:
  /// Opens the file as `mode` says with the given busy timeout.
  Database(const std::filesystem::path& path, int busy_timeout_ms,
           OpenMode mode = OpenMode::create);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Runs one or more statements with no parameters and no results.
  void exec(const char* sql);
  /// The first column of the first row of `sql` as text (for PRAGMAs that answer).
  std::string query_text(const char* sql);
  std::int64_t query_int(const char* sql);
  [[nodiscard]] std::int64_t last_insert_rowid() const noexcept;
  [[nodiscard]] int changes() const noexcept;

  [[nodiscard]] sqlite3* handle() const noexcept { return db_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// Throws StoreError "PATH: CONTEXT: SQLITE MESSAGE".
  [[noreturn]] void fail(std::string_view context) const;
  [[noreturn]] void fail(std::string_view context, std::string_view message) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

/// A write transaction (BEGIN IMMEDIATE, so the write lock is taken up front and waits under the
/// busy timeout instead of failing at the first write). Rolled back unless commit() is called.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool open_ = true;
};

/// A read transaction: everything read inside it comes from one snapshot of the database.
class ReadTransaction {
 public:
  explicit ReadTransaction(Database& db);
  ~ReadTransaction();
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Database& db_;
};

}  // namespace ws::store
