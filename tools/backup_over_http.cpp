// backup --server: the running server takes the backup (POST /api/v1/admin/backups), so it
// needs no downtime; this tool only signs in and asks. The HTTP client is http/admin_client
// (Beast stays in http/).
#include "tools/backup_over_http.hpp"

#include <simdjson.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "common/json_writer.hpp"
#include "http/admin_client.hpp"

namespace tl::admin {
namespace {

// One line of standard input, without echo when it is a terminal (prompted on stderr).
std::string read_password(const std::string& user) {
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (terminal) {
    std::cerr << "Password for " << printable(user) << ": " << std::flush;
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string password;
  const bool got = static_cast<bool>(std::getline(std::cin, password));
  if (terminal) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (!got || password.empty()) throw UsageError("no password on standard input (give it as one line)");
  return password;
}

// The server's error message of a refusal ({"error":{"code","message"}}), else the body.
std::string server_message(const ClientResponse& res) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view code, message;
  if (parser.parse(res.body).get(doc) == simdjson::SUCCESS &&
      doc["error"]["message"].get(message) == simdjson::SUCCESS) {
    if (doc["error"]["code"].get(code) != simdjson::SUCCESS) code = "error";
    return std::to_string(res.status) + " " + std::string(code) + ": " + std::string(message);
  }
  return std::to_string(res.status) + ": " + res.body.substr(0, 200);
}

// The kind of a server's refusal: its answer to these credentials or this request (401, 403,
// 409: refused, as the tool's own refusals), else a failure (503, 5xx, anything unexpected).
ErrorKind refusal(const ClientResponse& res) {
  return res.status == 401 || res.status == 403 || res.status == 409 || res.status == 429 ? ErrorKind::refused
                                                                                          : ErrorKind::failed;
}

// The session cookie ("name=value") among the Set-Cookie headers of a sign-in.
std::string session_cookie(const ClientResponse& res) {
  for (const std::string& cookie : res.set_cookies) {
    const std::string pair = cookie.substr(0, cookie.find(';'));
    const std::string name = pair.substr(0, pair.find('='));
    if (name == "tl_session" || name == "__Host-tl_session") return pair;
  }
  return {};
}

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
  auto server = parse_server_url(options.url);
  if (!server) throw UsageError(server.error().message);
  if (options.user.empty())
    throw UsageError("--user: the admin to sign in as (the password comes from standard input)");
  const std::string password = read_password(options.user);

  JsonWriter login;
  login.begin_object().key("username").value(options.user).key("password").value(password).end_object();
  auto signed_in = send_request(*server, "POST", "/api/v1/session", std::move(login).str(), {}, options.ca_file,
                                std::chrono::seconds(60));
  if (!signed_in) throw Failure(signed_in.error().message);
  if (signed_in->status / 100 != 2)
    throw Failure("sign-in refused: " + server_message(*signed_in), refusal(*signed_in));
  const std::string cookie = session_cookie(*signed_in);
  if (cookie.empty()) throw Failure("the server answered the sign-in without a session cookie");
  const ClientHeaders auth = {{"Cookie", cookie}};

  JsonWriter body;
  body.begin_object().key("include_keys").value(options.include_keys).end_object();
  // The server answers once the copy is done and verified: allow a long backup.
  auto taken = send_request(*server, "POST", "/api/v1/admin/backups", std::move(body).str(), auth, options.ca_file,
                            std::chrono::hours(24));
  (void)send_request(*server, "DELETE", "/api/v1/session", "", auth, options.ca_file, std::chrono::seconds(30));
  if (!taken) throw Failure(taken.error().message);
  if (taken->status != 201) {
    throw Failure("the server refused the backup: " + server_message(*taken), refusal(*taken));
  }
  if (json) {
    std::cout << taken->body << "\n";
  } else {
    print_result(taken->body, options.url);
  }
  return kExitOk;
}

}  // namespace tl::admin
