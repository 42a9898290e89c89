// `waferscan hardware status|reset`: the operator's view of Faulted devices.
#include "app/commands.hpp"
#include "app/run_wiring.hpp"
#include "store/run_owner.hpp"
#include "waferscan/error.hpp"
#include "waferscan/store.hpp"

#include <unistd.h>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

namespace ws::app {

namespace {
std::string operator_name() {
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') return user;
  return "uid " + std::to_string(::getuid());
}

int reset_hardware(const std::string& db) {
  Store store(db);
  recover_interrupted_runs(store);
  std::optional<MachineLock> lock;  // no reset while another process drives it
  if (!take_machine(lock, "hardware reset")) return exit_code::busy;
  const auto faults = store.faults();
  const int n = store.reset_faults(operator_name());
  for (const auto& f : faults) {
    std::cout << "reset " << f.device << " (Faulted since " << f.since << ": " << f.reason << ")\n";
  }
  std::cout << n << " device(s) reset by " << operator_name() << std::endl;
  return 0;
}

int hardware_status(const std::string& db) {
  const Store store = open_store_for_reading(db, std::cerr);
  const auto faults = store.faults();
  if (faults.empty()) std::cout << "no Faulted device\n";
  for (const auto& f : faults) {
    std::cout << f.device << ": Faulted since " << f.since << " in run " << f.run << ": "
              << f.reason << "\n";
  }
  return faults.empty() ? 0 : exit_code::fault;
}

}  // namespace

Command add_hardware_command(CLI::App& app) {
  struct Args {
    std::string db = "waferscan.db";
    bool reset = false;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("hardware", "Show Faulted devices, or reset them (operator)");
  sub->require_subcommand(1);
  auto* status = sub->add_subcommand("status", "List Faulted devices");
  auto* reset = sub->add_subcommand("reset", "Clear every fault after checking the machine");
  add_db_option(status, a->db);
  add_db_option(reset, a->db);
  return {sub,
          [a, reset] { return reset->parsed() ? reset_hardware(a->db) : hardware_status(a->db); }};
}

}  // namespace ws::app
