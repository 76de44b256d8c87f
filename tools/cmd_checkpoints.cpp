// checkpoints: the signed checkpoints of the log's head, for reading or for saving beside an
// export so that `verify --file --checkpoints` can check both without the database.
#include <iostream>

#include "eventstore/signed_checkpoints.hpp"
#include "service/verify_report.hpp"
#include "tools/checkpoint_check.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"
#include "tools/store_access.hpp"
#include "tools/table.hpp"

namespace tl::admin {

int cmd_checkpoints(int argc, char** argv) {
  std::string data, format = "table";
  bool json = false;
  Command cmd("checkpoints", "[--data DIR] [--format table|jsonl | --json]",
              "Lists the signed checkpoints: the log's head (seq and hash) signed with the server's\n"
              "Ed25519 key (DIR/signing.key), each naming the one before it. The server signs one\n"
              "periodically and at shutdown (and on POST /api/v1/audit/checkpoints).\n\n"
              "--format jsonl writes them exactly as stored, one per line, to keep beside an export:\n"
              "`tokenledger-admin verify --file EXPORT.jsonl --checkpoints FILE --public-key HEX` then\n"
              "checks both without the database. --json prints the document of\n"
              "GET /api/v1/audit/checkpoints. Opens the database read-only (works beside the server).");
  cmd.data_option(data).json_option(json);
  cmd.options()("format", po::value(&format)->value_name("FORMAT"), "table (default) or jsonl");
  if (!cmd.parse(argc, argv)) return kExitOk;
  if (format != "table" && format != "jsonl") throw UsageError("--format: '" + format + "' is not one of table, jsonl");
  if (json && format != "table") throw UsageError("--json and --format " + format + " exclude each other");

  const DataDir dir{data};
  auto store = open_store(dir, Access::read_only, /*log_only=*/true);
  auto checkpoints = list_checkpoints(*store);
  if (!checkpoints) throw Failure("cannot read the checkpoints: " + checkpoints.error().message);
  const std::string public_key = public_key_of(dir.signing_key());
  if (format == "jsonl") {
    for (const auto& c : *checkpoints) std::cout << c.raw << "\n";
  } else if (json) {
    auto tree_heads = list_tree_heads(*store);
    if (!tree_heads) throw Failure("cannot read the tree heads: " + tree_heads.error().message);
    std::cout << checkpoints_json(*checkpoints, public_key, &*tree_heads) << "\n";
  } else {
    Table table({"SEQ", "SIGNED AT", "HEAD HASH", "PUBLIC KEY"});
    for (const auto& c : *checkpoints) table.add({std::to_string(c.seq), c.at, c.hash, c.public_key});
    table.max_width(3, 17);
    table.print(std::cout);
    std::cout << "\n"
              << checkpoints->size() << " signed checkpoints (head seq " << store->head().seq << ")\n"
              << "public key of " << dir.signing_key() << ": " << (public_key.empty() ? "(no such file)" : public_key)
              << "\n";
  }
  return kExitOk;
}

}  // namespace tl::admin
