// user add|list|groups|passwd|delete: account management for bootstrapping and emergencies.
// Changes are the commands of UserService and service/offboarding.hpp, run to their end here
// (blocking), so they are the same audited events the server appends,
// with the operator named as the actor via "admin_tool".
#include <unistd.h>

#include <iostream>
#include <map>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "eventstore/passwords.hpp"
#include "service/offboarding.hpp"
#include "service/password_policy.hpp"
#include "service/user_service.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"
#include "tools/store_access.hpp"
#include "tools/table.hpp"

namespace tl::admin {
namespace {

constexpr const char* kWriting =
    "Appends the same audited event as the server, naming you as the actor via admin_tool: the\n"
    "account of your real user id (not $USER or $SUDO_USER, which anyone can set), with your login\n"
    "account (/proc/self/loginuid, which sudo keeps) and the host name; under sudo, $SUDO_USER is\n"
    "recorded as the hint sudo_user only. Needs the database to itself: stop the server first, or\n"
    "use the HTTP API.";

// The store and the read model the user service works on, loaded from the last checkpoint.
struct Session {
  std::unique_ptr<EventStore> store;
  std::unique_ptr<ReadModel> model;
  std::unique_ptr<UserService> users;

  Session(const std::string& data, Access access) : store(open_store(DataDir{data}, access)) {
    model = std::make_unique<ReadModel>(*store);
    if (auto loaded = model->load(); !loaded) throw Failure("cannot load the user table: " + loaded.error().message);
    users = std::make_unique<UserService>(*store, *model);
  }
  void finish() {
    store->stop_appender();
    if (auto saved = model->save_checkpoint(); !saved)
      std::cerr << "note: checkpoint not saved: " << saved.error().message << "\n";
    store->close();
  }
};

// An invalid name or group is a usage error; the rest a failure: no such user (not_found), a
// storage error (failed), anything the rules forbid, such as a name taken, refused.
[[noreturn]] void fail(const Error& error, const std::string& username) {
  if (error.code == ErrorCode::invalid_field) throw UsageError(error.message);
  const ErrorKind kind = error.code == ErrorCode::not_found ? ErrorKind::not_found
                         : error.code == ErrorCode::unavailable || error.code == ErrorCode::internal
                             ? ErrorKind::failed
                             : ErrorKind::refused;
  throw Failure("user '" + printable(username) + "': " + error.message, kind);
}

std::string read_password_stdin() {
  if (::isatty(STDIN_FILENO) == 1) std::cerr << "Password (input is shown): " << std::flush;
  std::string line;
  if (!std::getline(std::cin, line)) throw UsageError("--password-stdin: nothing on standard input");
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.empty()) throw UsageError("--password-stdin: the password is empty");
  return line;
}

std::string groups_text(const std::vector<std::string>& groups) {
  std::string out;
  for (const auto& g : groups) out += (out.empty() ? "" : ",") + g;
  return out.empty() ? "(none)" : out;
}

std::string user_json(const UserState& u, const std::string& password = {}) {
  JsonWriter w;
  w.begin_object().key("username").value(u.username).key("groups").begin_array();
  for (const auto& g : u.groups) w.value(g);
  w.end_array().key("created_at").value(format_rfc3339(u.created_at)).key("version").value(u.version);
  if (!password.empty()) w.key("password").value(password);
  return std::move(w.end_object()).str();
}

int user_add(int argc, char** argv) {
  std::string data, username, groups;
  bool json = false, from_stdin = false;
  Command cmd("user add", "USER [--groups a,b] [--password-stdin] [--data DIR] [--json]",
              std::string("Creates a user. Without --password-stdin a password is generated and printed once.\n"
                          "Groups: api-tokens (may hold tokens), auditors (read the audit trail), admins.\n"
                          "On a data directory without a database, creates one (the server then does not\n"
                          "create its first account, admin).\n") +
                  kWriting);
  cmd.positional("USER", username, "the user name (a-z, 0-9, '.', '_', '-')").data_option(data).json_option(json);
  cmd.options()("groups", po::value(&groups)->value_name("a,b"), "comma-separated groups (default: none)")(
      "password-stdin", po::bool_switch(&from_stdin), "read the password from the first line of standard input");
  cmd.epilog("Example: echo \"$PW\" | tokenledger-admin user add alice --groups api-tokens,auditors --password-stdin");
  if (!cmd.parse(argc, argv)) return kExitOk;
  const std::string password = from_stdin ? read_password_stdin() : random_acceptable_password();
  Session s(data, Access::writable_create);
  auto created = run_command(*s.store, s.users->create(admin_context(), username, password, split_list(groups)));
  s.finish();
  if (!created) fail(created.error(), username);
  if (json) {
    std::cout << user_json(*created, from_stdin ? "" : password) << "\n";
  } else {
    std::cout << "Created user " << created->username << " (groups: " << groups_text(created->groups) << ").\n";
    if (!from_stdin) std::cout << "  Its password, shown only this once: " << password << "\n";
  }
  return kExitOk;
}

int user_list(int argc, char** argv) {
  std::string data;
  bool json = false;
  Command cmd("user list", "[--data DIR] [--json]",
              "Lists the active users and their groups. Opens the database read-only (works beside the server).");
  cmd.data_option(data).json_option(json);
  if (!cmd.parse(argc, argv)) return kExitOk;
  Session s(data, Access::read_only);
  const auto users = s.users->list();
  if (json) {
    std::string out = "{\"users\":[";
    for (std::size_t i = 0; i < users.size(); ++i) out += (i ? "," : "") + user_json(users[i]);
    std::cout << out << "]}\n";
    return kExitOk;
  }
  Table table({"USER", "GROUPS", "CREATED", "VERSION"});
  for (const auto& u : users) {
    table.add({u.username, groups_text(u.groups), format_rfc3339(u.created_at), std::to_string(u.version)});
  }
  table.print(std::cout);
  std::cout << "\n" << users.size() << (users.size() == 1 ? " user" : " users") << "\n";
  return kExitOk;
}

int user_groups(int argc, char** argv) {
  std::string data, username, groups;
  bool json = false;
  Command cmd(
      "user groups", "USER GROUPS [--data DIR] [--json]",
      std::string("Sets a user's groups (replacing them): GROUPS is comma-separated, \"\" for none.\n") + kWriting);
  cmd.positional("USER", username, "the user").positional("GROUPS", groups, "e.g. api-tokens,auditors");
  cmd.data_option(data).json_option(json);
  if (!cmd.parse(argc, argv)) return kExitOk;
  Session s(data, Access::writable);
  auto changed = run_command(*s.store, s.users->set_groups(admin_context(), username, split_list(groups)));
  s.finish();
  if (!changed) fail(changed.error(), username);
  if (json) {
    std::cout << user_json(*changed) << "\n";
  } else {
    std::cout << "User " << changed->username << " is now in groups: " << groups_text(changed->groups) << ".\n";
  }
  return kExitOk;
}

int user_passwd(int argc, char** argv) {
  std::string data, username;
  bool json = false, from_stdin = false;
  Command cmd("user passwd", "USER [--password-stdin] [--data DIR] [--json]",
              std::string("Sets a user's password; without --password-stdin a new one is generated and printed\n"
                          "once.\n") +
                  kWriting);
  cmd.positional("USER", username, "the user").data_option(data).json_option(json);
  cmd.options()("password-stdin", po::bool_switch(&from_stdin),
                "read the password from the first line of standard input");
  if (!cmd.parse(argc, argv)) return kExitOk;
  const std::string password = from_stdin ? read_password_stdin() : random_acceptable_password();
  Session s(data, Access::writable);
  auto changed = run_command(*s.store, s.users->set_password(admin_context(), username, password));
  s.finish();
  if (!changed) fail(changed.error(), username);
  if (json) {
    JsonWriter w;
    w.begin_object().key("username").value(username);
    if (!from_stdin) w.key("password").value(password);
    std::cout << std::move(w.end_object()).str() << "\n";
  } else {
    std::cout << "Changed the password of " << username << ".\n";
    if (!from_stdin) std::cout << "  The new password, shown only this once: " << password << "\n";
  }
  return kExitOk;
}

int user_delete(int argc, char** argv) {
  std::string data, username;
  bool json = false;
  Command cmd("user delete", "USER [--data DIR] [--json]",
              std::string("Deletes a user and revokes their tokens (reason \"user deleted\").\n") + kWriting);
  cmd.positional("USER", username, "the user").data_option(data).json_option(json);
  if (!cmd.parse(argc, argv)) return kExitOk;
  Session s(data, Access::writable);
  auto removed = run_command(*s.store, delete_user(*s.users, *s.model, admin_context(), username));
  s.finish();
  if (!removed) fail(removed.error(), username);
  if (json) {
    JsonWriter w;
    w.begin_object().key("deleted").value(username).key("revoked_tokens").value(static_cast<std::uint64_t>(*removed));
    std::cout << std::move(w.end_object()).str() << "\n";
  } else {
    std::cout << "Deleted user " << username << " and revoked " << *removed << " tokens.\n";
  }
  return kExitOk;
}

int user_revoke_tokens(int argc, char** argv) {
  std::string data, username, reason;
  bool json = false;
  Command cmd(
      "user revoke-tokens", "USER --reason TEXT [--data DIR] [--json]",
      std::string("Revokes every token of a user (offboarding): each a TokenDeleted with the reason.\n") + kWriting);
  cmd.positional("USER", username, "the user").data_option(data).json_option(json);
  cmd.options()("reason", po::value(&reason), "why, recorded with each revocation (required)");
  if (!cmd.parse(argc, argv)) return kExitOk;
  if (reason.empty()) throw UsageError("--reason is required: say why the tokens are revoked");
  username = canonical_username(username);  // "ALICE" is alice, as on the HTTP API
  Session s(data, Access::writable);
  // As the HTTP route: an unknown user is an error, not "0 tokens revoked".
  if (auto user = s.model->users().get(username); !user || !user->active) {
    fail(Error::not_found("no such user"), username);
  }
  auto revoked = run_command(*s.store, revoke_tokens(*s.model, admin_context(), username, reason));
  s.finish();
  if (!revoked) fail(revoked.error(), username);
  if (json) {
    JsonWriter w;
    w.begin_object().key("username").value(username).key("revoked").value(static_cast<std::uint64_t>(*revoked));
    std::cout << std::move(w.end_object()).str() << "\n";
  } else {
    std::cout << "Revoked " << *revoked << " tokens of " << username << ".\n";
  }
  return kExitOk;
}

}  // namespace

const std::vector<Subcommand>& user_subcommands() {
  static const std::vector<Subcommand> table = {
      {"add", "USER [--groups a,b] [--password-stdin]", "create a user", false, user_add},
      {"list", "", "the active users and their groups", true, user_list},
      {"groups", "USER a,b", "set a user's groups", false, user_groups},
      {"passwd", "USER [--password-stdin]", "set a user's password", false, user_passwd},
      {"delete", "USER", "delete a user, revoking their tokens", false, user_delete},
      {"revoke-tokens", "USER --reason TEXT", "revoke every token of a user", false, user_revoke_tokens},
  };
  return table;
}

int cmd_user(int argc, char** argv) {
  std::string names;
  for (const auto& u : user_subcommands()) names += (names.empty() ? "" : "|") + std::string(u.name);
  const std::string sub = argc > 1 ? argv[1] : "";
  if (sub.empty()) throw UsageError("say which: user " + names);
  if (sub == "--help" || sub == "-h") {
    std::cout << "Usage: tokenledger-admin user " << names << " ... [--data DIR]\n\n";
    for (const auto& u : user_subcommands()) {
      const std::string line = "user " + std::string(u.name) + " " + std::string(u.synopsis);
      std::cout << "  " << line << std::string(line.size() < 50 ? 50 - line.size() : 1, ' ') << u.about << "\n";
    }
    std::cout << "\nEach takes --help. Changes are audited like the server's, with you as the actor via\n"
                 "admin_tool, and need the database to itself (stop the server, or use the HTTP API).\n";
    return kExitOk;
  }
  for (const auto& u : user_subcommands()) {
    if (u.name == sub) return u.run(argc - 1, argv + 1);
  }
  throw UsageError("unknown user command '" + printable(sub) + "'; use " + names);
}

}  // namespace tl::admin
