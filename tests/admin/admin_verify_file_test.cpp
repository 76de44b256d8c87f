// verify --file is strict (issue 11): an export is complete unless said to be filtered, must
// reach every signed checkpoint, keeps each stream's versions continuous, and agrees with the
// manifest saved beside it.
#include <gtest/gtest.h>

#include <functional>

#include "admin_fixture.hpp"

namespace admin_test {
namespace {

class VerifyFileTest : public AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    records = lines(admin({"audit", "--data", data(), "--format", "jsonl"}).out);
    ASSERT_EQ(records.size(), scenario.head_seq);
    checkpoint_lines = lines(admin({"checkpoints", "--data", data(), "--format", "jsonl"}).out);
    ASSERT_EQ(checkpoint_lines.size(), 2u);
    write_file(checkpoints(), read_file_lines(checkpoint_lines));
  }

  static std::string read_file_lines(const std::vector<std::string>& ls) {
    std::string text;
    for (const auto& l : ls) text += l + "\n";
    return text;
  }
  std::string trail() const { return dir.sub("trail.jsonl"); }
  std::string checkpoints() const { return dir.sub("checkpoints.jsonl"); }
  std::string manifest() const { return dir.sub("manifest.json"); }

  // A manifest as the export route writes it, with the given parts.
  void write_manifest(const std::string& filters, std::uint64_t head_seq, const std::string& head_hash,
                      std::uint64_t count, const std::string& first, const std::string& last,
                      const std::string& checkpoint) {
    write_file(manifest(),
               R"({"manifest":"tokenledger-audit-export","version":1,"generated_at":"2026-11-28T10:00:00.000Z",)"
               R"("filters":)" +
                   filters + R"(,"head":{"seq":)" + std::to_string(head_seq) + R"(,"hash":")" + head_hash +
                   R"("},"count":)" + std::to_string(count) + R"(,"first_seq":)" + first + R"(,"last_seq":)" + last +
                   R"(,"checkpoint":)" + checkpoint + "}\n");
  }
  void write_whole_manifest(const std::string& checkpoint) {
    write_manifest("{}", scenario.head_seq, scenario.head_hash, scenario.head_seq, "1",
                   std::to_string(scenario.head_seq), checkpoint);
  }

  std::vector<std::string> records;
  std::vector<std::string> checkpoint_lines;
};

TEST_F(VerifyFileTest, AnExportEndingBeforeASignedCheckpointFails) {
  const std::uint64_t newest = scenario.checkpoint_seqs.back();
  ASSERT_EQ(newest, scenario.head_seq);
  write_file(trail(), read_file_lines({records.begin(), records.end() - 1}));  // the last record cut off
  RunResult run = admin(
      {"verify", "--file", trail(), "--complete", "--checkpoints", checkpoints(), "--public-key", scenario.public_key});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("before the signed checkpoint at seq " + std::to_string(newest)), std::string::npos)
      << run.out;
  run = admin({"verify", "--file", trail(), "--checkpoints", checkpoints(), "--json"});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("\"first_beyond_seq\":" + std::to_string(newest)), std::string::npos) << run.out;
  // The whole export reaches both checkpoints and says which checks ran.
  write_file(trail(), read_file_lines(records));
  run = admin({"verify", "--file", trail(), "--checkpoints", checkpoints(), "--public-key", scenario.public_key});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("checked      every signed checkpoint reached"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("checked      every stream's versions continuous"), std::string::npos) << run.out;
}

TEST_F(VerifyFileTest, AStreamVersionJumpOrRepeatFailsNamingSeqAndStream) {
  // The first record with version 2 given version 3 (a jump) or 1 (a repeat), the chain re-linked
  // after it: every hash and link holds, only the stream's versions show it.
  std::size_t k = 0;
  while (k < records.size() && records[k].find(R"("version":2,)") == std::string::npos) ++k;
  ASSERT_LT(k, records.size());
  ASSERT_GT(k, 0u);
  for (const char* to : {R"("version":3,)", R"("version":1,)"}) {
    std::vector<std::string> forged = records;
    forged[k].replace(forged[k].find(R"("version":2,)"), 12, to);
    for (std::size_t i = k; i < forged.size(); ++i) forged[i] = rehash(forged[i], hash_of(forged[i - 1]));
    write_file(trail(), read_file_lines(forged));
    const RunResult run = admin({"verify", "--file", trail()});
    EXPECT_EQ(run.exit_code, 1) << to << "\n" << describe(run);
    EXPECT_NE(run.out.find("  seq          " + std::to_string(k + 1) + "\n"), std::string::npos) << run.out;
    const std::string stream = forged[k].substr(forged[k].find(R"("stream":")") + 10);
    EXPECT_NE(run.out.find("stream \"" + stream.substr(0, stream.find('"')) + "\" has version"), std::string::npos)
        << run.out;
  }
}

TEST_F(VerifyFileTest, AManifestThatAgreesVerifies) {
  write_file(trail(), read_file_lines(records));
  write_whole_manifest(checkpoint_lines.back());
  RunResult run = admin({"verify", "--file", trail(), "--manifest", manifest(), "--public-key", scenario.public_key});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("checked      the manifest"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("manifest key --public-key"), std::string::npos) << run.out;
  run = admin({"verify", "--file", trail(), "--manifest", manifest()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("manifest key the key it names"), std::string::npos) << "says which key: " << run.out;
  write_whole_manifest("null");
  EXPECT_EQ(admin({"verify", "--file", trail(), "--manifest", manifest()}).exit_code, 0);
}

TEST_F(VerifyFileTest, AManifestThatDiffersFailsNamingWhat) {
  write_file(trail(), read_file_lines(records));
  const std::string head = std::to_string(scenario.head_seq);
  const std::string other_hash(64, 'a');
  struct Case {
    std::function<void()> write;
    std::string named;
  };
  const std::vector<Case> cases = {
      {[&] { write_manifest("{}", scenario.head_seq, scenario.head_hash, scenario.head_seq + 1, "1", head, "null"); },
       "the manifest says " + std::to_string(scenario.head_seq + 1) + " records"},
      {[&] { write_manifest("{}", scenario.head_seq, scenario.head_hash, scenario.head_seq, "2", head, "null"); },
       "first_seq is 2"},
      {[&] { write_manifest("{}", scenario.head_seq, other_hash, scenario.head_seq, "1", head, "null"); },
       "manifest's head is seq " + head + " " + other_hash},
      {[&] { write_whole_manifest(checkpoint_lines.back()); }, "checkpoint signature does not verify"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    cases[i].write();
    const std::vector<std::string> args =
        i == 3 ? std::vector<std::string>{"verify",
                                          "--file",
                                          trail(),
                                          "--manifest",
                                          manifest(),
                                          "--public-key",
                                          std::string(64, '1')}
               : std::vector<std::string>{"verify", "--file", trail(), "--manifest", manifest()};
    const RunResult run = admin(args);
    EXPECT_EQ(run.exit_code, 1) << i << "\n" << describe(run);
    EXPECT_NE(run.out.find(cases[i].named), std::string::npos) << i << "\n" << run.out;
  }
}

TEST_F(VerifyFileTest, AnExportEndingBeforeTheManifestsCheckpointFails) {
  // A cut export with a manifest made to match it, except for the checkpoint it carries.
  const std::uint64_t last = scenario.head_seq - 1;
  write_file(trail(), read_file_lines({records.begin(), records.end() - 1}));
  write_manifest(R"({"head_seq":)" + std::to_string(last) + "}", last, hash_of(records[last - 1]), last, "1",
                 std::to_string(last), checkpoint_lines.back());
  const RunResult run = admin({"verify", "--file", trail(), "--manifest", manifest()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("does not hold seq " + std::to_string(scenario.head_seq)), std::string::npos) << run.out;
}

TEST_F(VerifyFileTest, AFilteredManifestMakesASubsetCheck) {
  const auto alice = lines(admin({"audit", "--data", data(), "--actor", "alice", "--format", "jsonl"}).out);
  ASSERT_GE(alice.size(), 2u);
  write_file(trail(), read_file_lines(alice));
  const auto seq = [&](const std::string& r) {
    const auto at = r.find(R"("seq":)") + 6;
    return r.substr(at, r.find(',', at) - at);
  };
  write_manifest(R"({"actor":"alice"})", scenario.head_seq, scenario.head_hash, alice.size(), seq(alice.front()),
                 seq(alice.back()), "null");
  RunResult run = admin({"verify", "--file", trail(), "--manifest", manifest()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("filtered subset"), std::string::npos) << run.out;
  run = admin({"verify", "--file", trail(), "--manifest", manifest(), "--complete"});
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find("says the export was filtered"), std::string::npos) << describe(run);
  // Its count still has to agree.
  write_manifest(R"({"actor":"alice"})", scenario.head_seq, scenario.head_hash, alice.size() + 1, seq(alice.front()),
                 seq(alice.back()), "null");
  run = admin({"verify", "--file", trail(), "--manifest", manifest()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  // Not a manifest at all: named.
  write_file(manifest(), R"({"manifest":"something-else","version":1})");
  run = admin({"verify", "--file", trail(), "--manifest", manifest()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.err.find("\"manifest\" is not \"tokenledger-audit-export\""), std::string::npos) << describe(run);
}

// The reviewer's forgery (issue 11): a whole-log export with a record removed, passed off as a
// filtered one by a manifest (it is not signed) naming a filter the records do not match.
TEST_F(VerifyFileTest, AManifestsFiltersMustMatchEveryRecord) {
  std::vector<std::string> forged = records;
  forged.erase(forged.begin() + 4);  // line 5
  write_file(trail(), read_file_lines(forged));
  const std::string head = std::to_string(scenario.head_seq);
  write_manifest(R"({"actor":"alice","head_seq":")" + head + R"("})", scenario.head_seq, scenario.head_hash,
                 forged.size(), "1", head, "null");
  RunResult run = admin({"verify", "--file", trail(), "--manifest", manifest()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("does not match the manifest's filter \"actor\":\"alice\" (the record's actor is"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("line "), std::string::npos) << run.out;
  run = admin({"verify", "--file", trail(), "--manifest", manifest(), "--json"});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("\"ok\":false"), std::string::npos) << run.out;
  // A seq filter: after_seq 2 leaves seq 1 and 2 out.
  write_manifest(R"({"after_seq":"2"})", scenario.head_seq, scenario.head_hash, forged.size(), "1", head, "null");
  run = admin({"verify", "--file", trail(), "--manifest", manifest()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("line 1 (seq 1) does not match the manifest's filter \"after_seq\":\"2\""), std::string::npos)
      << run.out;
  // A filter value that is no time is named.
  write_manifest(R"({"since":"yesterday"})", scenario.head_seq, scenario.head_hash, forged.size(), "1", head, "null");
  run = admin({"verify", "--file", trail(), "--manifest", manifest()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.err.find("filter \"since\" is not an RFC 3339 time"), std::string::npos) << describe(run);
}

// since/until are the half-open window [since, until) at full precision, as the audit routes
// compare them: a record at exactly until is out, one a fraction of a millisecond before since too.
TEST_F(VerifyFileTest, AManifestsTimeWindowIsHalfOpenAtFullPrecision) {
  const auto alice = lines(admin({"audit", "--data", data(), "--actor", "alice", "--format", "jsonl"}).out);
  ASSERT_GE(alice.size(), 2u);
  write_file(trail(), read_file_lines(alice));
  const auto field = [](const std::string& r, const std::string& name) {
    const auto at = r.find("\"" + name + "\":") + name.size() + 3;
    const bool quoted = r[at] == '"';
    return quoted ? r.substr(at + 1, r.find('"', at + 1) - at - 1) : r.substr(at, r.find(',', at) - at);
  };
  const std::string first_at = field(alice.front(), "at"), last_at = field(alice.back(), "at");
  ASSERT_EQ(first_at.back(), 'Z');
  const auto sub_ms = [](std::string t) { return t.insert(t.size() - 1, "1"); };  // .123Z -> .1231Z
  const auto with = [&](const std::string& filters) {
    write_manifest(filters, scenario.head_seq, scenario.head_hash, alice.size(), field(alice.front(), "seq"),
                   field(alice.back(), "seq"), "null");
    return admin({"verify", "--file", trail(), "--manifest", manifest()});
  };
  RunResult run = with(R"({"actor":"alice","since":")" + first_at + R"(","until":")" + sub_ms(last_at) + R"("})");
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("checked      every record matches the manifest's filters"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("cannot be detected\n               without the database"), std::string::npos) << run.out;
  run = with(R"({"actor":"alice","until":")" + last_at + R"("})");
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("(seq " + field(alice.back(), "seq") + ") does not match the manifest's filter \"until\""),
            std::string::npos)
      << run.out;
  run = with(R"({"actor":"alice","since":")" + sub_ms(first_at) + R"("})");
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(
      run.out.find("line 1 (seq " + field(alice.front(), "seq") + ") does not match the manifest's filter \"since\""),
      std::string::npos)
      << run.out;
}

// What `jq .` makes of compact JSON: a line per member, two spaces of indent, a space after ':'.
std::string pretty(const std::string& json) {
  std::string out, indent;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    out += c;
    if (in_string) {
      if (c == '\\') out += json[++i];
      if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      indent += "  ";
      out += "\n" + indent;
    } else if (c == ',') {
      out += "\n" + indent;
    } else if (c == ':') {
      out += ' ';
    }
  }
  return out;
}

// A manifest or checkpoints file reformatted by a JSON tool is the same document (issue 11).
TEST_F(VerifyFileTest, PrettyPrintedManifestAndCheckpointsVerify) {
  write_file(trail(), read_file_lines(records));
  write_whole_manifest(checkpoint_lines.back());
  write_file(manifest(), pretty(read_file(manifest())));
  std::string pretty_checkpoints;
  for (const auto& c : checkpoint_lines) pretty_checkpoints += pretty(c) + "\n";
  write_file(checkpoints(), pretty_checkpoints);
  RunResult run = admin({"verify", "--file", trail(), "--manifest", manifest(), "--checkpoints", checkpoints(),
                         "--public-key", scenario.public_key});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("2 signed checkpoints verified"), std::string::npos) << run.out;
  // The HTTP API's document, pretty-printed.
  std::string document = R"({"public_key":")" + scenario.public_key + R"(","checkpoints":[)";
  for (std::size_t i = 0; i < checkpoint_lines.size(); ++i) document += (i ? "," : "") + checkpoint_lines[i];
  write_file(checkpoints(), pretty(document + "]}"));
  run = admin({"verify", "--file", trail(), "--checkpoints", checkpoints(), "--public-key", scenario.public_key});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  // A reformatted checkpoint with a changed field still fails.
  std::string forged = pretty_checkpoints;
  forged.replace(forged.find("\"at\": \"") + 7, 4, "2001");
  write_file(checkpoints(), forged);
  run = admin({"verify", "--file", trail(), "--checkpoints", checkpoints(), "--public-key", scenario.public_key});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("signature does not verify"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace admin_test
