#include "eventstore/token_secrets.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>

#include "eventstore/passwords.hpp"
#include "temp_dir.hpp"

namespace tl {
namespace {

std::array<unsigned char, 32> key_of(unsigned char b) {
  std::array<unsigned char, 32> k{};
  k.fill(b);
  return k;
}

TEST(TokenSecretsTest, CodesHaveThePrefixLengthAndChecksum) {
  TokenSecrets secrets(key_of(1));
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string code = secrets.generate_code();
    EXPECT_EQ(code.substr(0, 4), "tlk_");
    EXPECT_GE(code.size(), 32u);
    EXPECT_TRUE(code_well_formed(code)) << code;
    seen.insert(code);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(TokenSecretsTest, MistypedCodesFailTheChecksum) {
  TokenSecrets secrets(key_of(1));
  const std::string code = secrets.generate_code();
  for (std::size_t i = 4; i < code.size(); ++i) {
    std::string typo = code;
    typo[i] = typo[i] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(code_well_formed(typo)) << "position " << i;
  }
  EXPECT_FALSE(code_well_formed(code.substr(1)));
  EXPECT_FALSE(code_well_formed("xyz_" + code.substr(4)));
  EXPECT_FALSE(code_well_formed(""));
}

TEST(TokenSecretsTest, LookupHashIsKeyed) {
  TokenSecrets a(key_of(1)), b(key_of(2));
  const std::string code = a.generate_code();
  EXPECT_EQ(a.lookup_hash(code), a.lookup_hash(code));
  EXPECT_NE(a.lookup_hash(code), b.lookup_hash(code));
  EXPECT_EQ(a.lookup_hash(code).size(), 64u);
  EXPECT_EQ(a.lookup_hash(code).find(code), std::string::npos);
}

TEST(TokenSecretsTest, SealedCodeOpensOnlyWithItsKeyAndToken) {
  TokenSecrets secrets(key_of(1)), other(key_of(2));
  const std::string code = secrets.generate_code();
  const SealedCode sealed = secrets.seal("tok_1", code);
  EXPECT_EQ(sealed.code_sealed.find(code), std::string::npos);
  EXPECT_EQ(secrets.unseal("tok_1", sealed.code_sealed, sealed.wrapped_data_key), code);
  EXPECT_FALSE(secrets.unseal("tok_2", sealed.code_sealed, sealed.wrapped_data_key));  // bound to the id
  EXPECT_FALSE(other.unseal("tok_1", sealed.code_sealed, sealed.wrapped_data_key));    // another master key
  const SealedCode another = secrets.seal("tok_1", code);
  EXPECT_FALSE(secrets.unseal("tok_1", sealed.code_sealed, another.wrapped_data_key));  // another data key
  EXPECT_FALSE(secrets.unseal("tok_1", sealed.code_sealed, ""));                        // destroyed
}

TEST(TokenSecretsTest, KeyFileIsCreatedOwnerOnlyAndReadBack) {
  testing::TempDir dir;
  const std::string path = dir.sub("master.key");
  auto created = load_or_create_key_file(path);
  ASSERT_TRUE(created.ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = load_or_create_key_file(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*created, *again);
}

TEST(PasswordsTest, Argon2idVerifiesOnlyTheRightPassword) {
  const std::string hash = hash_password("correct horse");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(hash.find("correct horse"), std::string::npos);
  EXPECT_TRUE(verify_password(hash, "correct horse"));
  EXPECT_FALSE(verify_password(hash, "correct horsE"));
}

TEST(IdsTest, UlidsAreUniqueAndSortable) {
  const std::string a = new_ulid("tok_");
  const std::string b = new_ulid("tok_");
  EXPECT_EQ(a.size(), 30u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.substr(0, 4), "tok_");
}

}  // namespace
}  // namespace tl
