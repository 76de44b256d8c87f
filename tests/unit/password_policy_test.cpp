// Password rules (NIST SP 800-63B §5.1.1.2): length and the dictionary, no composition rules;
// the concurrent-hash bound.
#include "service/password_policy.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "service/hash_slots.hpp"

namespace tl {
namespace {

std::string message_of(const Status& s) { return s ? std::string("ok") : s.error().message; }

TEST(PasswordPolicyTest, AtLeastTwelveCharacters) {
  EXPECT_EQ(message_of(check_new_password("x7#kQ2!mP9a")), "password: at least 12 characters.");
  EXPECT_EQ(message_of(check_new_password("x7#kQ2!mP9a", "new")), "new: at least 12 characters.");
  EXPECT_EQ(message_of(check_new_password("x7#kQ2!mP9az")), "ok");
  EXPECT_EQ(message_of(check_new_password(std::string(1025, 'q') + "z")), "password: at most 1024 bytes.");
}

TEST(PasswordPolicyTest, CommonPasswordsAreRefused) {
  // Words and keyboard or counting patterns of the cracklib dictionary, 12 characters or more.
  for (const char* weak :
       {"administrator", "Administrator1", "unbelievable", "1q2w3e4r5t6y", "abc123abc123", "123456789012345"}) {
    const Status s = check_new_password(weak);
    ASSERT_FALSE(s) << weak;
    EXPECT_EQ(s.error().code, ErrorCode::invalid_field) << weak;
  }
  EXPECT_EQ(message_of(check_new_password("administrator")), "password: it is in a list of common passwords.");
  EXPECT_EQ(message_of(check_new_password("administrator", "new")), "new: it is in a list of common passwords.");
}

TEST(PasswordPolicyTest, CommonPasswordsWithDigitsOrARepetitionAddedAreRefused) {
  // cracklib alone accepts each of these (found by trying them against the server).
  for (const char* weak : {"password1234", "Password1234!", "passwordpassword", "iloveyou1234", "letmein12345",
                           "trustno1trustno1", "qwertyuiop12"}) {
    EXPECT_EQ(message_of(check_new_password(weak)),
              "password: it is a common password with digits, symbols or a repetition added.")
        << weak;
  }
  EXPECT_EQ(message_of(check_new_password("zebraquiltmoon2026")), "ok");
}

TEST(PasswordPolicyTest, NoCompositionRules) {
  // Lower-case letters only, or words with spaces: long and uncommon is enough.
  EXPECT_EQ(message_of(check_new_password("zebraquiltmoon")), "ok");
  EXPECT_EQ(message_of(check_new_password("correct horse battery staple")), "ok");
}

TEST(HashSlotsTest, AWaiterWithoutASlotGivesUpAfterTheWait) {
  HashSlots slots(2, std::chrono::milliseconds{50});
  HashSlots::Lease a(slots), b(slots);
  ASSERT_TRUE(a.held());
  ASSERT_TRUE(b.held());
  const auto start = std::chrono::steady_clock::now();
  {
    HashSlots::Lease c(slots);
    EXPECT_FALSE(c.held());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{1});
}

TEST(HashSlotsTest, AReleasedSlotIsReused) {
  HashSlots slots(1, std::chrono::milliseconds{50});
  {
    HashSlots::Lease a(slots);
    ASSERT_TRUE(a.held());
  }
  HashSlots::Lease b(slots);
  EXPECT_TRUE(b.held());
}

TEST(HashSlotsTest, DefaultIsTheCoresAndAtLeastTwo) {
  HashSlots slots;
  EXPECT_GE(slots.size(), 2);
  EXPECT_GE(slots.size(), static_cast<std::ptrdiff_t>(std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace tl
