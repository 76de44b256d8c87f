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

// The command line is wrong: exit 2, with a pointer to --help.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The command could not do what was asked: exit 1.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

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
