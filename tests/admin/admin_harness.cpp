#include "admin_harness.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "eventstore/codec.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/raw_events.hpp"
#include "support/child_process.hpp"

namespace admin_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test_support::spawn;
using test_support::wait_until;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "tokenledger-admin-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  path_ = pattern;
}

TempDir::~TempDir() {
  if (const char* keep = std::getenv("TOKENLEDGER_ADMIN_TEST_KEEP"); keep != nullptr && *keep != '\0') return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string rehash(std::string raw, const std::string& prev_hash) {
  const std::string prev_key = R"("prev_hash":")";
  raw.replace(raw.find(prev_key) + prev_key.size(), 64, prev_hash);
  const std::string body = raw.substr(0, raw.rfind(R"(,"hash":")"));
  return body + R"(,"hash":")" + tl::sha256_hex(body) + "\"}";
}

std::string hash_of(const std::string& raw) { return raw.substr(raw.rfind(R"(,"hash":")") + 9, 64); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) result.push_back(line);
  return result;
}

namespace {

RunResult run_admin(const std::vector<std::string>& extra_env, const std::vector<std::string>& args,
                    const std::string& input, std::chrono::seconds limit,
                    const std::string& program = TOKENLEDGER_ADMIN_BIN) {
  std::vector<std::string> argv = {program};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env = {std::string("USER=") + kEnvUser};  // a known operator name
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  auto run = test_support::run_child(argv, input, env, limit);
  return {run.exit_code, std::move(run.out), std::move(run.err)};
}

}  // namespace

RunResult admin(const std::vector<std::string>& args, const std::string& input, std::chrono::seconds limit) {
  return run_admin({}, args, input, limit);
}

RunResult run_program(const std::string& program, const std::vector<std::string>& args, std::chrono::seconds limit) {
  return run_admin({}, args, {}, limit, program);
}

RunResult admin_env(const std::vector<std::string>& extra_env, const std::vector<std::string>& args,
                    const std::string& input) {
  return run_admin(extra_env, args, input, std::chrono::seconds(60));
}

std::string operator_account() {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return "uid:" + std::to_string(::getuid());
}

std::string describe(const RunResult& run) {
  return "exit " + std::to_string(run.exit_code) + "\n--- stdout\n" + run.out + "--- stderr\n" + run.err;
}

Server::Server(const std::string& data_dir) : data_dir_(data_dir), log_path_(data_dir + ".server.log") {}

Server::~Server() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void Server::start() {
  pid_ = spawn({TOKENLEDGER_BIN, "--listen", "127.0.0.1:0", "--data", data_dir_}, "/dev/null", log_path_, log_path_,
               {std::string("USER=") + kEnvUser});
  static const std::regex kListening(R"(listening on http://127\.0\.0\.1:([0-9]+))");
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::regex_search(read_file(log_path_), kListening)) return;
    if (auto status = wait_until(pid_, std::chrono::steady_clock::now())) {
      pid_ = -1;
      throw std::runtime_error("the server exited (" + std::to_string(*status) + ") before listening:\n" + log());
    }
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error("the server did not say it was listening within 20 s:\n" + log());
}

int Server::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  auto status = wait_until(pid_, std::chrono::steady_clock::now() + 10s);
  if (!status) {
    ::kill(pid_, SIGKILL);
    int raw = 0;
    ::waitpid(pid_, &raw, 0);
    status = test_support::decode_status(raw);
  }
  pid_ = -1;
  return *status;
}

std::string Server::log() const { return read_file(log_path_); }

struct EventsEditor::Impl {
  std::unique_ptr<tl::RawEvents> events;
};

EventsEditor::EventsEditor(const std::string& db_dir) : impl_(new Impl) {
  auto opened = tl::RawEvents::open(db_dir, /*writable=*/true);
  if (!opened) {
    delete impl_;
    throw std::runtime_error(opened.error().message);
  }
  impl_->events = std::move(opened).value();
}

EventsEditor::~EventsEditor() { delete impl_; }

std::string EventsEditor::get(std::uint64_t seq) {
  auto value = impl_->events->get(seq);
  if (!value) throw std::runtime_error(value.error().message);
  if (!*value) throw std::runtime_error("get seq " + std::to_string(seq) + ": NotFound");
  return std::move(**value);
}

void EventsEditor::put(std::uint64_t seq, const std::string& value) {
  if (auto s = impl_->events->put(seq, value); !s) throw std::runtime_error(s.error().message);
}

void EventsEditor::remove(std::uint64_t seq) {
  if (auto s = impl_->events->put(seq, std::nullopt); !s) throw std::runtime_error(s.error().message);
}

simdjson::dom::element parse_json(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element doc;
  if (auto error = parser.parse(text).get(doc); error) {
    throw std::runtime_error(std::string("not JSON (") + simdjson::error_message(error) + "): " + text);
  }
  return doc;
}

}  // namespace admin_test
