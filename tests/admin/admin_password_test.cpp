// tokenledger-admin applies the same password rules as the API (at least 12 characters, not in
// the dictionary), and appends nothing when it refuses one.
#include "admin_fixture.hpp"
#include "eventstore/event_store.hpp"
#include "projections/read_model.hpp"
#include "service/user_service.hpp"

namespace admin_test {
namespace {

bool authenticates(const std::string& data, const std::string& user, const std::string& password) {
  auto store = tl::EventStore::open(data + "/db",
                                    {.extra_column_families = tl::ReadModel::column_families(), .read_only = true});
  if (!store) throw std::runtime_error(store.error().message);
  tl::ReadModel model(**store);
  if (auto loaded = model.load(); !loaded) throw std::runtime_error(loaded.error().message);
  return tl::UserService(**store, model).authenticate(user, password).ok();
}

TEST_F(AdminTest, UserAddRefusesShortOrCommonPasswords) {
  RunResult run = admin({"user", "add", "dave", "--password-stdin", "--data", data()}, "eleven-char\n");
  EXPECT_NE(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.err.find("password: at least 12 characters"), std::string::npos) << describe(run);
  run = admin({"user", "add", "dave", "--password-stdin", "--data", data()}, "administrator\n");
  EXPECT_NE(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.err.find("password: it is in a list of common passwords"), std::string::npos) << describe(run);
  EXPECT_EQ(admin({"user", "list", "--data", data()}).out.find("dave"), std::string::npos) << "nothing was created";
}

TEST_F(AdminTest, UserPasswdRefusesAWeakPasswordAndKeepsTheOldOne) {
  ASSERT_EQ(admin({"user", "add", "dave", "--password-stdin", "--data", data()}, "dave-first-pass-1\n").exit_code, 0);
  const RunResult run = admin({"user", "passwd", "dave", "--password-stdin", "--data", data()}, "unbelievable\n");
  EXPECT_NE(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.err.find("common passwords"), std::string::npos) << describe(run);
  EXPECT_TRUE(authenticates(data(), "dave", "dave-first-pass-1"));
}

}  // namespace
}  // namespace admin_test
