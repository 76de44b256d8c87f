// Running the project's binaries from tests (admin, end-to-end): a child process with its
// standard streams in files, a bounded wait, and an environment that cannot change how it runs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace test_support {

// The test's environment without what would change how the binaries run (TOKENLEDGER_*,
// SPDLOG_*, USER, SUDO_USER, LD_PRELOAD), then `extra` ("NAME=value") added, each replacing a
// variable of the same name.
std::vector<std::string> child_environment(const std::vector<std::string>& extra);

// Starts `args[0]` (a path) with `args`, stdin from `in_path`, stdout into `out_path` and stderr
// into `err_path` (the same file when they are equal, created 0600), the environment
// child_environment(extra_env), and no other descriptor. Throws when it cannot be started.
pid_t spawn(std::vector<std::string> args, const std::string& in_path, const std::string& out_path,
            const std::string& err_path, const std::vector<std::string>& extra_env = {});

// A waitpid status as an exit code: the exit status, 128 + the signal, or -1.
int decode_status(int status);

// Waits for `pid` until `deadline`: its exit status (128 + signal when killed by one), or nullopt
// on timeout (it is left running).
std::optional<int> wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline);

struct ChildRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `args` as spawn does with `input` on stdin and waits at most `limit`; on timeout kills it
// and throws, with its output in the message.
ChildRun run_child(const std::vector<std::string>& args, const std::string& input,
                   const std::vector<std::string>& extra_env, std::chrono::seconds limit);

}  // namespace test_support
