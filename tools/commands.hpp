// The subcommands. Each takes its own argv (argv[0] is its name), prints its result and
// returns the exit code; a wrong command line throws UsageError, a failure Failure.
#pragma once

#include <string_view>
#include <vector>

namespace tl::admin {

int cmd_verify(int argc, char** argv);
int cmd_replay(int argc, char** argv);
int cmd_audit(int argc, char** argv);
int cmd_checkpoints(int argc, char** argv);
int cmd_rebuild(int argc, char** argv);
int cmd_migrate(int argc, char** argv);
int cmd_backup(int argc, char** argv);
int cmd_restore(int argc, char** argv);
int cmd_user(int argc, char** argv);
int cmd_proof(int argc, char** argv);
int cmd_witness(int argc, char** argv);

// One entry of a dispatch table: the usage lists are printed from the tables, so that every
// command that runs is listed.
struct Subcommand {
  std::string_view name;      // as typed after tokenledger-admin (after "user" for the user table)
  std::string_view synopsis;  // its arguments, for `user --help`
  std::string_view about;     // one line for the usage
  bool beside_server;         // read-only: works while the server runs
  int (*run)(int, char**);
};

// `user add`, `user list`, …: dispatched by cmd_user (cmd_user.cpp).
const std::vector<Subcommand>& user_subcommands();

}  // namespace tl::admin
