// The command line itself: help for every subcommand, and exit status 2 with a clear message
// for every kind of bad usage.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "admin_harness.hpp"

namespace admin_test {
namespace {

TEST(AdminCliTest, EverySubcommandHasHelp) {
  const std::vector<std::vector<std::string>> commands = {
      {"verify"}, {"replay"},      {"audit"},        {"rebuild"},        {"backup"},         {"restore"},
      {"user"},   {"user", "add"}, {"user", "list"}, {"user", "groups"}, {"user", "passwd"}, {"user", "delete"}};
  for (auto args : commands) {
    std::string name;
    for (const auto& a : args) name += (name.empty() ? "" : " ") + a;
    args.push_back("--help");
    const RunResult run = admin(args);
    EXPECT_EQ(run.exit_code, 0) << name << "\n" << describe(run);
    EXPECT_NE(run.out.find("Usage: tokenledger-admin " + name), std::string::npos) << describe(run);
  }
  const RunResult top = admin({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const char* command : {"verify", "replay", "audit", "checkpoints", "rebuild", "backup", "restore", "user"}) {
    EXPECT_NE(top.out.find(command), std::string::npos) << command;
  }
}

TEST(AdminCliTest, HelpSaysWhatBackupCopies) {
  const RunResult run = admin({"backup", "--help"});
  EXPECT_NE(run.out.find("master.key"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("introspection.secret"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("0600"), std::string::npos) << run.out;
}

TEST(AdminCliTest, BadUsageExitsTwoWithAMessage) {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, "Usage:"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"verify", "--bogus"}, "unrecognised option '--bogus'"},
      {{"verify", "--data", dir.sub("nothing")}, "no tokenledger database in"},
      {{"verify", "--data", dir.path(), "--file", "x.jsonl"}, "exclude each other"},
      {{"verify", "--file", dir.sub("missing.jsonl")}, "cannot read"},
      {{"replay", "--data", dir.path(), "--until", "yesterday"}, "not an RFC 3339 time"},
      {{"replay", "--until", "2026-01-01T00:00:00Z", "--until-seq", "3"}, "not both"},
      {{"replay", "--until-seq", "many"}, "--until-seq"},
      {{"audit", "--format", "xml"}, "not one of table, jsonl, csv"},
      {{"audit", "--type", "TokenStolen"}, "not an event type"},
      {{"backup", "--data", dir.path()}, "--to"},
      {{"restore", "--from", dir.path()}, "--data"},
      {{"user"}, "user add|list|groups|passwd|delete"},
      {{"user", "fly"}, "unknown user command 'fly'"},
      {{"user", "add"}, "missing argument USER"},
      {{"user", "groups", "bob"}, "missing argument GROUPS"},
  };
  for (const Case& c : cases) {
    const RunResult run = admin(c.args);
    std::string name;
    for (const auto& a : c.args) name += a + " ";
    EXPECT_EQ(run.exit_code, 2) << name << "\n" << describe(run);
    EXPECT_NE(run.err.find(c.message), std::string::npos) << name << "\n" << describe(run);
    EXPECT_TRUE(run.out.empty()) << name << "\n" << describe(run);
  }
}

// The top usage is printed from the dispatch table: every command that runs is listed (issue
// 16: `user revoke-tokens` was missing), and every listed one answers its --help.
TEST(AdminCliTest, EveryDispatchedCommandIsInTheUsage) {
  const RunResult listed = admin({"--list-commands"});
  ASSERT_EQ(listed.exit_code, 0) << describe(listed);
  const std::vector<std::string> commands = lines(listed.out);
  ASSERT_GE(commands.size(), 13u) << listed.out;
  const RunResult top = admin({"--help"});
  ASSERT_EQ(top.exit_code, 0) << describe(top);
  bool revoke = false;
  for (const std::string& name : commands) {
    revoke = revoke || name == "user revoke-tokens";
    EXPECT_NE(top.out.find("\n  " + name + " "), std::string::npos) << name << " is not in the usage\n" << top.out;
    std::vector<std::string> args;
    for (std::size_t at = 0, next = 0; at <= name.size(); at = next + 1) {
      next = name.find(' ', at);
      if (next == std::string::npos) next = name.size();
      args.push_back(name.substr(at, next - at));
    }
    args.push_back("--help");
    const RunResult help = admin(args);
    EXPECT_EQ(help.exit_code, 0) << name << "\n" << describe(help);
    EXPECT_NE(help.out.find("Usage: tokenledger-admin " + name), std::string::npos) << describe(help);
  }
  EXPECT_TRUE(revoke) << listed.out;
  // The user subcommands' own help lists them all too.
  const RunResult user_help = admin({"user", "--help"});
  for (const std::string& name : commands) {
    if (name.rfind("user ", 0) == 0) {
      EXPECT_NE(user_help.out.find("  " + name + " "), std::string::npos) << name;
    }
  }
}

TEST(AdminCliTest, VersionPrintsTheBuild) {
  std::vector<std::pair<std::string, std::string>> programs = {{TOKENLEDGER_ADMIN_BIN, "tokenledger-admin"}};
#ifdef TOKENLEDGER_BENCH_GEN_BIN
  programs.emplace_back(TOKENLEDGER_BENCH_GEN_BIN, "tokenledger-bench-gen");
#endif
  for (const auto& [path, name] : programs) {
    const RunResult run = run_program(path, {"--version"});
    EXPECT_EQ(run.exit_code, 0) << name << "\n" << describe(run);
    EXPECT_EQ(run.out.rfind(name + " " + TOKENLEDGER_VERSION + "\n", 0), 0u) << describe(run);
    for (const char* line : {"\ncommit: ", "\nbuild type: ", "\nRocksDB: ", "\nBoost: "}) {
      EXPECT_NE(run.out.find(line), std::string::npos) << name << ": " << line << "\n" << run.out;
    }
  }
}

#ifdef TOKENLEDGER_BENCH_GEN_BIN
// Into a pipe (not a terminal) the generator's progress is whole lines, without '\r' (each
// report, every 100,000 events and at the end, is a line of its own).
TEST(AdminCliTest, BenchGenProgressIsLinesIntoAPipe) {
  TempDir dir;
  const RunResult run =
      run_program(TOKENLEDGER_BENCH_GEN_BIN, {"--data", dir.sub("bench"), "--events", "2000", "--users", "10"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(run.err.find('\r'), std::string::npos) << run.err;
  std::size_t progress = 0;
  for (const std::string& line : lines(run.err)) progress += line.rfind("generated 2000 / 2000 events", 0) == 0 ? 1 : 0;
  EXPECT_EQ(progress, 1u) << run.err;
  EXPECT_EQ(run.err.back(), '\n') << run.err;
  // Stdout is the JSON summary alone (log lines go to stderr), and what it wrote is owner-only.
  simdjson::dom::parser parser;
  EXPECT_EQ(parser.parse(run.out).error(), simdjson::SUCCESS) << run.out;
  EXPECT_EQ(run.out.find("[info]"), std::string::npos) << run.out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.sub("bench"))) {
    struct stat st {};
    ASSERT_EQ(::lstat(entry.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u) << entry.path() << " is open to others";
  }
}
#endif

}  // namespace
}  // namespace admin_test
