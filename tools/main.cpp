// tokenledger-admin: replay, verify, audit export, rebuild, backup and user management for a
// tokenledger data directory. Dispatches to one subcommand; each parses its own options.
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "common/build_info.hpp"
#include "eventstore/rocksdb_version.hpp"
#include "eventstore/token_secrets.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"

namespace {

using namespace tl::admin;

// The dispatch table; `user` dispatches again through user_subcommands().
const std::vector<Subcommand> kCommands = {
    {"verify", "", "prove the audit trail is complete and unaltered (--data DIR, or --file EXPORT.jsonl)", true,
     cmd_verify},
    {"replay", "", "the tokens as they stood at a moment (--until TIME) or a seq (--until-seq N)", true, cmd_replay},
    {"audit", "", "the audit trail with filters, as a table, jsonl (verifiable offline) or csv", true, cmd_audit},
    {"checkpoints", "", "the signed checkpoints of the log's head (jsonl: to verify an export offline)", true,
     cmd_checkpoints},
    {"backup", "", "a consistent backup of the database (--server URL: the running server makes it)", false,
     cmd_backup},
    {"restore", "", "restore a backup into a new data directory", false, cmd_restore},
    {"rebuild", "", "fold every projection again from seq 1", false, cmd_rebuild},
    {"migrate", "", "copy the log between a data directory and PostgreSQL (--from, --to), then verify the copy", false,
     cmd_migrate},
    {"proof", "", "proof verify: check a receipt (GET /api/v1/audit/receipts/N) offline", true, cmd_proof},
    {"witness", "", "cosign a running server's newest tree head if it extends the one seen before", true, cmd_witness},
    {"user", "", "user accounts (the user subcommands below)", false, cmd_user},
};

// Every command that runs, "user add" style for the user table: what --list-commands prints
// and the usage lists.
std::vector<std::pair<std::string, const Subcommand*>> all_commands() {
  std::vector<std::pair<std::string, const Subcommand*>> out;
  for (const auto& c : kCommands) {
    if (c.run == cmd_user) {
      for (const auto& u : user_subcommands()) out.emplace_back("user " + std::string(u.name), &u);
    } else {
      out.emplace_back(std::string(c.name), &c);
    }
  }
  return out;
}

std::string usage() {
  std::string out =
      "tokenledger-admin: the admin and audit tool of tokenledger\n\n"
      "Usage: tokenledger-admin COMMAND [options]     (tokenledger-admin COMMAND --help for each)\n"
      "       tokenledger-admin --version\n";
  for (const bool beside : {true, false}) {
    out += beside ? "\nRead-only (they work while the server is running):\n"
                  : "\nThey need the database to themselves (stop the server first):\n";
    for (const auto& [name, c] : all_commands()) {
      if (c->beside_server != beside) continue;
      out += "  " + name + std::string(name.size() < 20 ? 20 - name.size() : 1, ' ') + std::string(c->about) + "\n";
    }
  }
  out +=
      "\nCommon options: --data DIR (default ./data: the server's data directory), --json.\n"
      "Exit status: 0 success, 1 a finding (e.g. a failed verify), a refusal or a failed operation,\n"
      "2 bad usage or a database or file that cannot be opened. With --json an error is one object\n"
      "{\"error\":{\"code\",\"message\"}} on stdout (codes: tools/README.md).\n"
      "Log levels: SPDLOG_LEVEL (default warn; logs go to stderr).\n";
  return out;
}

// "verify", or "user add" for the user subcommands: where --help is.
std::string command_name(int argc, char** argv) {
  std::string name = argv[1];
  if (name == "user" && argc > 2 && argv[2][0] != '-') name += std::string(" ") + argv[2];
  return name;
}

const Subcommand* find_command(std::string_view name) {
  for (const auto& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  // What the tool writes into a data directory (RocksDB's files, backups, key files) is for its
  // user only, as the server's (issue 12).
  ::umask(077);
  const bool json = json_requested(argc, argv);
  if (argc < 2) {
    if (json) return report_error(ErrorKind::usage, "", "say which command (see tokenledger-admin --help)", true);
    std::cerr << usage();
    return kExitUsage;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << usage();
    return kExitOk;
  }
  if (command == "--version") {
    std::cout << tl::version_text("tokenledger-admin", tl::build_info(tl::rocksdb_version()));
    return kExitOk;
  }
  if (command == "--list-commands") {  // the dispatch table, one command a line (for tests and completion)
    for (const auto& [name, c] : all_commands()) std::cout << name << "\n";
    return kExitOk;
  }
  const Subcommand* found = find_command(command);
  if (found == nullptr) {
    return report_error(ErrorKind::usage, "", "unknown command '" + printable(command) + "'", json);
  }

  // Library logs go to stderr, so that stdout holds only the command's output.
  spdlog::set_default_logger(spdlog::stderr_color_mt("tokenledger-admin"));
  spdlog::set_level(spdlog::level::warn);
  spdlog::cfg::load_env_levels();
  try {
    tl::ensure_sodium();
    return found->run(argc - 1, argv + 1);
  } catch (const AdminError& e) {
    return report_error(e.kind, command_name(argc, argv), e.what(), json);
  } catch (const std::exception& e) {
    return report_error(ErrorKind::failed, command_name(argc, argv), e.what(), json);
  }
}
