// backup --server: the running server takes the backup (POST /api/v1/admin/backups), so it
// needs no downtime; this tool only signs in and asks. The HTTP client is http/admin_client
// (Beast stays in http/).
#include "tools/backup_over_http.hpp"

#include <simdjson.h>

#include <iostream>

#include "common/json_writer.hpp"
#include "tools/server_session.hpp"

namespace tl::admin {
namespace {

void print_result(const std::string& body, const std::string& url) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) throw Failure("the server's answer is not JSON: " + body);
  std::string_view name, hash, created;
  std::uint64_t seq = 0, size = 0;
  bool keys = false;
  if (doc["name"].get(name) || doc["head"]["seq"].get(seq) || doc["head"]["hash"].get(hash) ||
      doc["created_at"].get(created) || doc["size"].get(size) || doc["include_keys"].get(keys)) {
    throw Failure("the server's answer is not a backup: " + body);
  }
  std::cout << "Backup " << name << " taken by " << url << " (checksums verified).\n"
            << "  created      " << created << "\n"
            << "  head seq     " << seq << "\n"
            << "  head hash    " << hash << "\n"
            << "  size         " << size << " bytes\n"
            << "  key files    " << (keys ? "in the backup directory (mode 0600)" : "left out: keep them elsewhere")
            << "\n";
  std::string held;
  simdjson::dom::array in_directory;
  if (!keys && doc["key_files_in_directory"].get(in_directory) == simdjson::SUCCESS) {
    for (auto file : in_directory) {
      std::string_view text;
      if (file.get(text) == simdjson::SUCCESS) held += (held.empty() ? "" : ", ") + std::string(text);
    }
  }
  if (!held.empty()) {
    std::cout << "  note         the server's backup directory still holds " << held
              << " from an earlier backup\n               with the keys; they serve every backup there.\n";
  }
}

}  // namespace

void server_backup_options(Command& cmd, ServerBackupOptions& options) {
  cmd.options()("server", po::value(&options.url)->value_name("URL"),
                "ask the server at URL (http:// or https://) to back up while it serves, into its --backup-dir")(
      "user", po::value(&options.user)->value_name("NAME"),
      "with --server: an admin's user name; the password is read from standard input")(
      "cacert", po::value(&options.ca_file)->value_name("FILE"),
      "with --server https://: trust the PEM certificate(s) in FILE instead of the system's CAs");
}

int backup_over_http(const ServerBackupOptions& options, bool json) {
  const ServerSession session(options.url, options.user, options.ca_file);

  JsonWriter body;
  body.begin_object().key("include_keys").value(options.include_keys).end_object();
  // The server answers once the copy is done and verified: allow a long backup.
  const ClientResponse taken =
      session.send("POST", "/api/v1/admin/backups", std::move(body).str(), std::chrono::hours(24));
  if (taken.status != 201) {
    throw Failure("the server refused the backup: " + server_message(taken), refusal(taken));
  }
  if (json) {
    std::cout << taken.body << "\n";
  } else {
    print_result(taken.body, options.url);
  }
  return kExitOk;
}

}  // namespace tl::admin
