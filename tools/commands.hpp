// The subcommands. Each takes its own argv (argv[0] is its name), prints its result and
// returns the exit code; a wrong command line throws UsageError, a failure Failure.
#pragma once

namespace tl::admin {

int cmd_verify(int argc, char** argv);
int cmd_replay(int argc, char** argv);
int cmd_audit(int argc, char** argv);
int cmd_checkpoints(int argc, char** argv);
int cmd_rebuild(int argc, char** argv);
int cmd_backup(int argc, char** argv);
int cmd_restore(int argc, char** argv);
int cmd_user(int argc, char** argv);

}  // namespace tl::admin
