#include "e2e_backup_support.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace e2e {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

RunResult run_admin(const std::vector<std::string>& args, const std::string& input, std::chrono::seconds limit) {
  char out_path[] = "/tmp/tl-admin-out-XXXXXX";
  char err_path[] = "/tmp/tl-admin-err-XXXXXX";
  const int out_fd = ::mkstemp(out_path);
  const int err_fd = ::mkstemp(err_path);
  int in_pipe[2];
  if (out_fd < 0 || err_fd < 0 || ::pipe(in_pipe) != 0) throw std::runtime_error("run_admin: cannot set up");
  std::vector<std::string> argv_strings = {TOKENLEDGER_ADMIN_BIN};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_pipe[0], 0), ::dup2(out_fd, 1), ::dup2(err_fd, 2);
    ::close(in_pipe[1]);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  // Small inputs (a password line) fit in the pipe's buffer.
  if (!input.empty() && ::write(in_pipe[1], input.data(), input.size()) < 0) {
    ::kill(pid, SIGKILL);
  }
  ::close(in_pipe[1]);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  ::close(out_fd), ::close(err_fd);
  ::unlink(out_path), ::unlink(err_path);
  return r;
}

}  // namespace e2e
