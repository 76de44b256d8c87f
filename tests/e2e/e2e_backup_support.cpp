#include "e2e_backup_support.hpp"

#include "support/child_process.hpp"

namespace e2e {

RunResult run_admin(const std::vector<std::string>& args, const std::string& input, std::chrono::seconds limit) {
  std::vector<std::string> argv = {TOKENLEDGER_ADMIN_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  auto run = test_support::run_child(argv, input, {}, limit);
  return {run.exit_code, std::move(run.out), std::move(run.err)};
}

}  // namespace e2e
