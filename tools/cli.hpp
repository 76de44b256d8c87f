// What every subcommand shares: exit codes, the two kinds of failure, option parsing with
// --help, and the admin tool's identity in the audit trail.
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "service/token_service.hpp"

namespace tl::admin {

namespace po = boost::program_options;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFinding = 1;  // a failed check, a refusal, or an operation that failed
inline constexpr int kExitUsage = 2;    // the command line is wrong

// Every kind of error the tool reports, each with a stable code (the "code" of --json's
// {"error":{"code","message"}}, documented in tools/README.md) and its exit status. Adding a kind
// is fine; renaming one breaks scripts.
enum class ErrorKind {
  usage,           // exit 2: the command line is wrong (unknown command or option, bad or missing value)
  cannot_open,     // exit 2: no database in --data, an input file that cannot be read, a database that will not open
  not_found,       // exit 1: a user, backup or other thing the command names does not exist
  check_failed,    // exit 1: a check found a problem (verify)
  refused,         // exit 1: the tool will not do it (not an empty directory, another database's backups, a rule)
  server_running,  // exit 1: a writing command while a server holds the database
  failed,          // exit 1: the operation failed (I/O, RocksDB), or an unexpected error
};
// Every kind, in the order documented (tools/README.md lists them in this order).
inline constexpr ErrorKind kErrorKinds[] = {ErrorKind::usage,        ErrorKind::cannot_open, ErrorKind::not_found,
                                            ErrorKind::check_failed, ErrorKind::refused,     ErrorKind::server_running,
                                            ErrorKind::failed};
// "usage", "cannot_open", … as in --json.
std::string_view error_code(ErrorKind kind) noexcept;
// kExitUsage for usage and cannot_open, kExitFinding for the rest.
int exit_status(ErrorKind kind) noexcept;

// An error a subcommand throws to stop: main reports it once (text on stderr, or with --json
// one JSON object on stdout) and exits with exit_status(kind).
struct AdminError : std::runtime_error {
  AdminError(const std::string& message, ErrorKind k) : std::runtime_error(message), kind(k) {}
  ErrorKind kind;
};
// The command line is wrong: exit 2, with a pointer to --help (or, with cannot_open, the
// database or a file named cannot be read).
struct UsageError : AdminError {
  explicit UsageError(const std::string& message, ErrorKind k = ErrorKind::usage) : AdminError(message, k) {}
};
// The command could not do what was asked: exit 1 (failed, unless a more precise kind is given).
struct Failure : AdminError {
  explicit Failure(const std::string& message, ErrorKind k = ErrorKind::failed) : AdminError(message, k) {}
};

// The one place errors are written: `tokenledger-admin COMMAND: MESSAGE` on stderr (with the
// pointer to COMMAND --help for usage), or with `json` {"error":{"code":…,"message":…}} and a
// newline on stdout, nothing on stderr. Returns exit_status(kind).
int report_error(ErrorKind kind, std::string_view command, std::string_view message, bool json);

// A finding reported with --json: `object` (a JSON object the command printed as its result)
// with "error":{"code":error_code(kind),"message":…} added as its last member, so that the
// result stays one object on stdout.
std::string with_error(std::string object, ErrorKind kind, std::string_view message);

// True when --json is among argv[1..] (before a "--"): errors are then written as JSON.
bool json_requested(int argc, char** argv);

// One subcommand's command line. `name` is e.g. "verify" or "user add"; `synopsis` the
// usage line after "tokenledger-admin NAME"; `about` the text under it.
class Command {
 public:
  Command(std::string name, std::string synopsis, std::string about);

  po::options_description_easy_init options() { return options_.add_options(); }
  // Adds --data DIR (default ./data).
  Command& data_option(std::string& data);
  // Adds --json.
  Command& json_option(bool& json);
  // A positional argument; `required` ones must be given.
  Command& positional(const std::string& name, std::string& value, const std::string& help, bool required = true);
  // Text printed after the options in --help (examples, notes).
  Command& epilog(std::string text);

  // Parses argv (argv[0] is the subcommand's name). Returns false when --help was printed;
  // throws UsageError when the command line is wrong.
  bool parse(int argc, char** argv);
  bool given(const std::string& option) const { return vm_.count(option) > 0 && !vm_[option].defaulted(); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string synopsis_;
  std::string about_;
  std::string epilog_;
  po::options_description options_{"Options"};
  struct Positional {
    std::string name;
    std::string* value;
    std::string help;
    bool required;
  };
  std::vector<Positional> positionals_;
  po::variables_map vm_;
};

// Who the audit trail names for changes made with this tool, via "admin_tool", from
// "tokenledger-admin". All from the operating system, never from $USER: actor.user is the account
// of the real uid (getpwuid_r(getuid()), "uid:N" when it has no name); login_user the account of
// /proc/self/loginuid when set (sudo cannot change it); host gethostname(); sudo_user $SUDO_USER,
// recorded as a labelled hint only. Each at most 256 bytes of valid UTF-8 (to_valid_utf8).
RequestContext admin_context();

// Splits "a,b,c" (empty parts dropped).
std::vector<std::string> split_list(const std::string& text);

// Text safe to show on a terminal: control characters become \xNN.
std::string printable(std::string_view text);

}  // namespace tl::admin
