// The command line itself: help for every subcommand, and exit status 2 with a clear message
// for every kind of bad usage.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace admin_test
