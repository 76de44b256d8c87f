// Running the real tokenledger-admin (and tokenledger) binaries from tests: a temporary
// directory per test, bounded runs with captured output, direct edits of the events column
// family, and a little JSON reading.
#pragma once

#include <simdjson.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace admin_test {

// $USER in the tool's environment in the tests. The tool must not believe it: the audit actor
// is the account of the real uid (operator_account()).
inline constexpr const char* kEnvUser = "test-operator";
// The account name of the real uid running the tests (getpwuid_r), as the tool records it.
std::string operator_account();

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string all() const { return out + err; }
};

// Runs tokenledger-admin with `args` (and `input` on stdin), killing it after `limit`.
RunResult admin(const std::vector<std::string>& args, const std::string& input = {},
                std::chrono::seconds limit = std::chrono::seconds(60));
// The same with `extra_env` ("NAME=value") added to (and overriding) the tool's environment.
RunResult admin_env(const std::vector<std::string>& extra_env, const std::vector<std::string>& args,
                    const std::string& input = {});
// Runs another binary of the project (`program`, a path) the same way, stdin empty.
RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                      std::chrono::seconds limit = std::chrono::seconds(120));
// A description of a run for assertion messages.
std::string describe(const RunResult& run);

// The real server on `data_dir`, listening on an ephemeral loopback port.
class Server {
 public:
  explicit Server(const std::string& data_dir);
  ~Server();  // SIGKILL when still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Waits (at most 20 s) for "listening on"; throws with the server's output otherwise.
  void start();
  // SIGTERM, then waits at most 10 s (SIGKILL after). Returns the exit status.
  int stop();
  std::string log() const;
  pid_t pid() const { return pid_; }  // the running server's process id

 private:
  std::string data_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
};

// Direct edits of the events column family (be64 seq -> record); the store must be closed.
class EventsEditor {
 public:
  explicit EventsEditor(const std::string& db_dir);
  ~EventsEditor();
  std::string get(std::uint64_t seq);
  void put(std::uint64_t seq, const std::string& value);
  void remove(std::uint64_t seq);

 private:
  struct Impl;
  Impl* impl_;
};

// A forger's edit: `raw` with its prev_hash set to `prev_hash` and its own hash recomputed, so
// that the chain still links. Only signed checkpoints can catch it.
std::string rehash(std::string raw, const std::string& prev_hash);
// The hash stored in a record.
std::string hash_of(const std::string& raw);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);
std::vector<std::string> lines(const std::string& text);

// Parses JSON text; fails the calling test (by throwing) when it is not JSON.
simdjson::dom::element parse_json(simdjson::dom::parser& parser, const std::string& text);

}  // namespace admin_test
