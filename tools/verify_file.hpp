// `verify --file`: checks an export written by `audit --format jsonl` without the database,
// optionally with the signed checkpoints and the manifest saved beside it.
#pragma once

#include <string>

namespace tl::admin {

struct VerifyFileOptions {
  std::string path;
  std::string checkpoints_path;  // empty: no checkpoints to check
  std::string manifest_path;     // empty: no manifest (export_manifest.hpp)
  std::string public_key;        // --public-key; empty: the key each checkpoint names
  // An export is complete by default: every record from seq 1, no gap, continuous stream
  // versions, reaching every signed checkpoint. It is checked as a subset only with --filtered
  // or when its manifest names a filter. --complete (the default) only excludes --filtered.
  bool filtered = false;
  bool complete_given = false;
  bool json = false;
};

// Prints the result; returns the exit code (0 verified, 1 a finding). Throws UsageError when a
// file cannot be read or --complete contradicts --filtered or the manifest, Failure when the
// manifest or checkpoints file is not one.
int verify_file(const VerifyFileOptions& options);

}  // namespace tl::admin
