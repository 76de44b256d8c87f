#include "ldb_tool.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/hex.hpp"
#include "eventstore/event_store.hpp"

namespace fs = std::filesystem;

namespace faults {

Outcome run(const std::vector<std::string>& args, std::chrono::seconds limit) {
  const fs::path out_file = fs::temp_directory_path() / ("tamper-run-" + std::to_string(::getpid()) + ".out");
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  Outcome result;
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(out_file);
  result.out.assign(std::istreambuf_iterator<char>(in), {});
  fs::remove(out_file);
  return result;
}

std::string hex_of(std::string_view bytes) {
  return "0x" + tl::to_hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}
std::string seq_key(std::uint64_t seq) { return hex_of(tl::encode_be64(seq)); }

Outcome ldb(const std::string& data, const std::string& family, std::vector<std::string> args) {
  std::vector<std::string> argv{"ldb", "--db=" + data + "/db", "--column_family=" + family, "--hex"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

std::string ldb_get(const std::string& data, const std::string& family, const std::string& hex_key) {
  const Outcome r = ldb(data, family, {"get", hex_key});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::string hex = r.out;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  auto bytes = tl::from_hex(hex.starts_with("0x") ? hex.substr(2) : hex);
  EXPECT_TRUE(bytes) << r.out;
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

void ldb_put(const std::string& data, const std::string& family, const std::string& hex_key, std::string_view value) {
  const Outcome r = ldb(data, family, {"put", hex_key, hex_of(value)});
  ASSERT_EQ(r.exit_code, 0) << r.out;
}

void ldb_delete(const std::string& data, const std::string& family, const std::string& hex_key) {
  const Outcome r = ldb(data, family, {"delete", hex_key});
  ASSERT_EQ(r.exit_code, 0) << r.out;
}

std::vector<std::string> ldb_keys(const std::string& data, const std::string& family) {
  const Outcome r = ldb(data, family, {"scan", "--no_value"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> keys;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("0x")) keys.push_back(line.substr(0, line.find(' ')));
  }
  return keys;
}

std::vector<std::pair<std::string, std::string>> ldb_entries(const std::string& data, const std::string& family) {
  const Outcome r = ldb(data, family, {"scan"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::pair<std::string, std::string>> entries;
  auto bytes = [](const std::string& hex) {
    auto b = tl::from_hex(hex.substr(2));
    return b ? std::string(b->begin(), b->end()) : std::string();
  };
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const auto sep = line.find(" : ");
    if (!line.starts_with("0x") || sep == std::string::npos) continue;
    const std::string value = line.substr(sep + 3);
    entries.emplace_back(bytes(line.substr(0, sep)), value.starts_with("0x") ? bytes(value) : std::string());
  }
  return entries;
}

}  // namespace faults
