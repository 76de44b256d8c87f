// `verify --file`: checks an export written by `audit --format jsonl` without the database,
// and optionally the signed checkpoints saved beside it.
#pragma once

#include <string>

namespace tl::admin {

struct VerifyFileOptions {
  std::string path;
  std::string checkpoints_path;  // empty: no checkpoints to check
  std::string public_key;        // --public-key; empty: the key each checkpoint names
  bool require_complete = false;
  bool json = false;
};

// Prints the result; returns the exit code.
int verify_file(const VerifyFileOptions& options);

}  // namespace tl::admin
