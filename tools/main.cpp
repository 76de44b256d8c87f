// tokenledger-admin: replay, verify, audit export, rebuild, backup and user management for a
// tokenledger data directory. Dispatches to one subcommand; each parses its own options.
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstring>
#include <iostream>
#include <map>

#include "eventstore/token_secrets.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"

namespace {

using namespace tl::admin;

constexpr const char* kUsage =
    "tokenledger-admin: the admin and audit tool of tokenledger\n\n"
    "Usage: tokenledger-admin COMMAND [options]     (tokenledger-admin COMMAND --help for each)\n\n"
    "Read-only (they work while the server is running):\n"
    "  verify       prove the audit trail is complete and unaltered (--data DIR, or --file EXPORT.jsonl)\n"
    "  replay       the tokens as they stood at a moment (--until TIME) or a seq (--until-seq N)\n"
    "  audit        the audit trail with filters, as a table, jsonl (verifiable offline) or csv\n"
    "  checkpoints  the signed checkpoints of the log's head (jsonl: to verify an export offline)\n"
    "  user list    the active users and their groups\n"
    "  backup --server URL --user NAME   ask the running server for a backup (its --backup-dir)\n"
    "They need the database to themselves (stop the server first):\n"
    "  backup       a consistent backup of the database and the key files\n"
    "  restore      restore a backup into a new data directory\n"
    "  rebuild      fold every projection again from seq 1\n"
    "  user         add | groups | passwd | delete accounts (audited like the server's changes)\n\n"
    "Common options: --data DIR (default ./data: the server's data directory), --json.\n"
    "Exit status: 0 success, 1 a finding (e.g. a failed verify) or a failed operation, 2 bad usage.\n"
    "Log levels: SPDLOG_LEVEL (default warn; logs go to stderr).\n";

const std::map<std::string, int (*)(int, char**)> kCommands = {
    {"verify", cmd_verify},   {"replay", cmd_replay}, {"audit", cmd_audit},     {"checkpoints", cmd_checkpoints},
    {"rebuild", cmd_rebuild}, {"backup", cmd_backup}, {"restore", cmd_restore}, {"user", cmd_user},
};

// "verify", or "user add" for the user subcommands: where --help is.
std::string command_name(int argc, char** argv) {
  std::string name = argv[1];
  if (name == "user" && argc > 2 && argv[2][0] != '-') name += std::string(" ") + argv[2];
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  // What the tool writes into a data directory (RocksDB's files, backups, key files) is for its
  // user only, as the server's (issue 12).
  ::umask(077);
  if (argc < 2) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  auto it = kCommands.find(command);
  if (it == kCommands.end()) {
    std::cerr << "tokenledger-admin: unknown command '" << printable(command) << "'\n(see tokenledger-admin --help)\n";
    return kExitUsage;
  }

  // Library logs go to stderr, so that stdout holds only the command's output.
  spdlog::set_default_logger(spdlog::stderr_color_mt("tokenledger-admin"));
  spdlog::set_level(spdlog::level::warn);
  spdlog::cfg::load_env_levels();
  try {
    tl::ensure_sodium();
    return it->second(argc - 1, argv + 1);
  } catch (const UsageError& e) {
    const std::string name = printable(command_name(argc, argv));
    std::cerr << "tokenledger-admin " << name << ": " << e.what() << "\n(see tokenledger-admin " << name
              << " --help)\n";
    return kExitUsage;
  } catch (const Failure& e) {
    std::cerr << "tokenledger-admin " << printable(command_name(argc, argv)) << ": " << e.what() << "\n";
    return kExitFinding;
  } catch (const std::exception& e) {
    std::cerr << "tokenledger-admin " << printable(command_name(argc, argv)) << ": " << e.what() << "\n";
    return kExitFinding;
  }
}
