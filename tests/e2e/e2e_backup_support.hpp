// Running the real tokenledger-admin from the end-to-end backup tests.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace e2e {

struct RunResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;
  std::string err;
  std::string all() const { return "exit " + std::to_string(exit_code) + "\n" + out + err; }
};

// Runs tokenledger-admin with `args`, `input` on its standard input; killed after `limit`.
RunResult run_admin(const std::vector<std::string>& args, const std::string& input = {},
                    std::chrono::seconds limit = std::chrono::seconds(90));

}  // namespace e2e
