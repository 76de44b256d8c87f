// Who the audit trail names for a change made with tokenledger-admin (issue 11): the account of
// the real uid, never what $SUDO_USER or $USER say; sudo's user only as a labelled hint.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <array>
#include <fstream>

#include "admin_fixture.hpp"

namespace admin_test {
namespace {

// The account of /proc/self/loginuid as the tool records it, or "" when the login uid is unset.
std::string login_account() {
  std::ifstream in("/proc/self/loginuid");
  unsigned long long id = 0;
  if (!(in >> id) || id == 4294967295ULL) return {};
  std::array<char, 16384> buffer{};
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(static_cast<uid_t>(id), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return "uid:" + std::to_string(id);
}

// The actor object of the newest record of `type`, parsed.
simdjson::dom::object actor_of_last(simdjson::dom::parser& parser, const std::string& data, const std::string& type) {
  RunResult run = admin({"audit", "--data", data, "--type", type, "--format", "jsonl"});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  const auto records = lines(run.out);
  if (records.empty()) throw std::runtime_error("no " + type + " record: " + describe(run));
  return parse_json(parser, records.back())["actor"].get_object().value();
}

TEST_F(AdminTest, ActorIsTheRealAccountNotSudoUserOrUser) {
  RunResult run = admin_env({"SUDO_USER=alice", "USER=alice"}, {"user", "groups", "bob", "admins", "--data", data()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);

  simdjson::dom::parser parser;
  const auto actor = actor_of_last(parser, data(), "UserGroupsChanged");
  EXPECT_EQ(std::string(actor["user"].get_string().value()), operator_account());
  EXPECT_NE(std::string(actor["user"].get_string().value()), "alice");
  EXPECT_EQ(std::string(actor["via"].get_string().value()), "admin_tool");
  EXPECT_EQ(std::string(actor["sudo_user"].get_string().value()), "alice");  // the hint, labelled as such

  std::array<char, 256> host{};
  ASSERT_EQ(gethostname(host.data(), host.size() - 1), 0);
  EXPECT_EQ(std::string(actor["host"].get_string().value()), host.data());

  const std::string login = login_account();
  if (login.empty()) {
    EXPECT_TRUE(actor["login_user"].error() == simdjson::NO_SUCH_FIELD) << "unset login uid: no login_user";
  } else {
    EXPECT_EQ(std::string(actor["login_user"].get_string().value()), login);
  }

  // Nothing is filed under alice's name.
  run = admin({"audit", "--data", data(), "--actor", "alice", "--type", "UserGroupsChanged", "--format", "jsonl"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_TRUE(lines(run.out).empty()) << run.out;
  EXPECT_EQ(admin({"verify", "--data", data()}).exit_code, 0);
}

TEST_F(AdminTest, WithoutSudoUserNoHintIsRecorded) {
  RunResult run = admin({"user", "groups", "bob", "auditors", "--data", data()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  simdjson::dom::parser parser;
  const auto actor = actor_of_last(parser, data(), "UserGroupsChanged");
  EXPECT_EQ(std::string(actor["user"].get_string().value()), operator_account());
  EXPECT_NE(std::string(actor["user"].get_string().value()), kEnvUser) << "$USER is not believed";
  EXPECT_TRUE(actor["sudo_user"].error() == simdjson::NO_SUCH_FIELD);
}

}  // namespace
}  // namespace admin_test
