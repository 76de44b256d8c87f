#include "tools/cli.hpp"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include "common/json_writer.hpp"
#include "domain/text_rules.hpp"

namespace tl::admin {

std::string_view error_code(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::usage:
      return "usage";
    case ErrorKind::cannot_open:
      return "cannot_open";
    case ErrorKind::not_found:
      return "not_found";
    case ErrorKind::check_failed:
      return "check_failed";
    case ErrorKind::refused:
      return "refused";
    case ErrorKind::server_running:
      return "server_running";
    case ErrorKind::failed:
      return "failed";
  }
  return "failed";
}

int exit_status(ErrorKind kind) noexcept {
  return kind == ErrorKind::usage || kind == ErrorKind::cannot_open ? kExitUsage : kExitFinding;
}

namespace {

// {"code":…,"message":…}; the message made valid UTF-8 (it may quote a path or argument as given).
void write_error_object(JsonWriter& w, ErrorKind kind, std::string_view message) {
  w.begin_object().key("code").value(error_code(kind)).key("message").value(to_valid_utf8(message));
  w.end_object();
}

}  // namespace

int report_error(ErrorKind kind, std::string_view command, std::string_view message, bool json) {
  if (json) {
    JsonWriter w;
    w.begin_object().key("error");
    write_error_object(w, kind, message);
    std::cout << std::move(w.end_object()).str() << "\n" << std::flush;
    return exit_status(kind);
  }
  const std::string name = command.empty() ? std::string() : " " + printable(command);
  std::cerr << "tokenledger-admin" << name << ": " << message << "\n";
  if (kind == ErrorKind::usage) std::cerr << "(see tokenledger-admin" << name << " --help)\n";
  return exit_status(kind);
}

std::string with_error(std::string object, ErrorKind kind, std::string_view message) {
  const auto close = object.find_last_of('}');
  if (close == std::string::npos) throw std::logic_error("with_error: not a JSON object");
  JsonWriter w;
  write_error_object(w, kind, message);
  const bool empty = object.find_last_not_of(" \n", close - 1) == object.find('{');
  object.insert(close, (empty ? "\"error\":" : ",\"error\":") + std::move(w).str());
  return object;
}

bool json_requested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return false;
    if (arg == "--json") return true;
  }
  return false;
}

Command::Command(std::string name, std::string synopsis, std::string about)
    : name_(std::move(name)), synopsis_(std::move(synopsis)), about_(std::move(about)) {
  options_.add_options()("help,h", "print this help and exit");
}

Command& Command::data_option(std::string& data) {
  options_.add_options()("data", po::value(&data)->default_value("./data")->value_name("DIR"),
                         "the server's data directory (RocksDB database in DIR/db)");
  return *this;
}

Command& Command::json_option(bool& json) {
  options_.add_options()("json", po::bool_switch(&json), "print JSON instead of a table");
  return *this;
}

Command& Command::positional(const std::string& name, std::string& value, const std::string& help, bool required) {
  positionals_.push_back({name, &value, help, required});
  return *this;
}

Command& Command::epilog(std::string text) {
  epilog_ = std::move(text);
  return *this;
}

bool Command::parse(int argc, char** argv) {
  po::options_description all;
  all.add(options_);
  po::options_description hidden;
  po::positional_options_description positional;
  for (const auto& p : positionals_) {
    hidden.add_options()(p.name.c_str(), po::value(p.value));
    positional.add(p.name.c_str(), 1);
  }
  all.add(hidden);
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm_);
  } catch (const po::too_many_positional_options_error&) {
    throw UsageError("too many arguments");
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (vm_.count("help")) {
    std::cout << "Usage: tokenledger-admin " << name_ << " " << synopsis_ << "\n\n" << about_ << "\n\n";
    if (!positionals_.empty()) {
      std::cout << "Arguments:\n";
      for (const auto& p : positionals_) {
        std::cout << "  " << p.name << std::string(p.name.size() < 22 ? 22 - p.name.size() : 1, ' ') << p.help << "\n";
      }
      std::cout << "\n";
    }
    std::cout << options_;
    if (!epilog_.empty()) std::cout << "\n" << epilog_ << "\n";
    return false;
  }
  try {
    po::notify(vm_);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  for (const auto& p : positionals_) {
    if (p.required && !vm_.count(p.name)) throw UsageError("missing argument " + p.name);
  }
  return true;
}

namespace {

constexpr std::size_t kMaxOsText = 256;

// The account name of `uid` from the password database, else "uid:N" (an account without a
// name is still someone).
std::string account_name(uid_t uid) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && *found->pw_name != '\0') {
    return to_valid_utf8(found->pw_name, kMaxOsText);
  }
  return "uid:" + std::to_string(uid);
}

// The audit login uid the kernel gave this session at login: sudo and su keep it, and only a
// privileged process may set it. Unset (no PAM login, some containers) reads as 4294967295.
std::optional<uid_t> login_uid() {
  std::ifstream in("/proc/self/loginuid");
  unsigned long long id = 0;
  if (!(in >> id) || id == 4294967295ULL || id > std::numeric_limits<uid_t>::max()) return std::nullopt;
  return static_cast<uid_t>(id);
}

std::string host_name() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return {};
  return to_valid_utf8(name.data(), kMaxOsText);
}

}  // namespace

RequestContext admin_context() {
  Actor actor;
  // The real uid, not $USER or $SUDO_USER: anyone can set those (issue 11).
  actor.user = account_name(getuid());
  actor.via = Via::admin_tool;
  if (auto login = login_uid()) actor.login_user = account_name(*login);
  actor.host = host_name();
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr) actor.sudo_user = to_valid_utf8(sudo, kMaxOsText);
  return {std::move(actor), {"", "tokenledger-admin", ""}};
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    const auto b = part.find_first_not_of(" \t");
    const auto e = part.find_last_not_of(" \t");
    if (b != std::string::npos) parts.push_back(part.substr(b, e - b + 1));
  }
  return parts;
}

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    const auto next = [&](std::size_t k) { return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0; };
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else if (u == 0xc2 && next(1) >= 0x80 && next(1) <= 0x9f) {  // C1 controls
      out += "\\u00";
      out.push_back(kHex[next(1) >> 4]);
      out.push_back(kHex[next(1) & 0xf]);
      i += 1;
    } else if (u == 0xe2 && ((next(1) == 0x80 && next(2) >= 0xaa && next(2) <= 0xae) ||
                             (next(1) == 0x81 && next(2) >= 0xa6 && next(2) <= 0xa9))) {  // bidi overrides
      const unsigned cp = 0x2000u | ((next(1) & 0x3fu) << 6) | (next(2) & 0x3fu);
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(cp >> shift) & 0xf]);
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace tl::admin
