// HTTPS: given --tls-cert and --tls-key the server speaks TLS only, marks its session cookie
// Secure, sends HSTS, answers plain HTTP on its port with a clear 400 and goes on serving, and
// refuses to start (before touching the data directory) on a bad certificate or key.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_server.hpp"

namespace e2e {
namespace {

namespace fs = std::filesystem;
constexpr auto npos = std::string::npos;

struct CertFiles {
  std::string cert;
  std::string key;
};

// A self-signed certificate for 127.0.0.1, made with the same openssl command as the README's.
CertFiles make_cert(const std::string& dir, const std::string& name) {
  const CertFiles files{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1"
      " -addext subjectAltName=IP:127.0.0.1 -keyout '" +
      files.key + "' -out '" + files.cert + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("`" + command +
                             "` failed; is the openssl command installed (scripts/install-deps.sh --test)?");
  }
  fs::permissions(files.key, fs::perms::owner_read | fs::perms::owner_write);  // as the README says
  return files;
}

std::vector<std::string> tls_args(const CertFiles& files) { return {"--tls-cert", files.cert, "--tls-key", files.key}; }

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Starting must fail: returns what the harness reports (the server's output included).
std::string start_failure(TestServer& server, const std::vector<std::string>& args) {
  try {
    server.start({.extra_args = args});
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  server.stop();
  return "the server started";
}

std::string login_body(const std::string& user, const std::string& password) {
  return R"({"username":)" + json_str(user) + R"(,"password":)" + json_str(password) + "}";
}

TEST(TlsTest, SignInOverHttpsSetsASecureCookieAndHsts) {
  TestServer server;
  const CertFiles files = make_cert(server.root_dir(), "server");
  server.start({.extra_args = tls_args(files)});
  ASSERT_TRUE(server.tls());
  EXPECT_NE(server.log().find("listening on https://127.0.0.1:"), npos) << server.log();

  HttpClient admin = server.client();
  // As a browser signs in: a POST carrying the page's https:// origin, which the CSRF check
  // must take as same-origin.
  const Response res =
      admin.post("/api/v1/session", login_body("admin", kAdminPassword), {{"Origin", server.origin()}});
  ASSERT_EQ(res.status, 200) << describe(res);
  const std::string cookie = res.header("set-cookie");
  // Over TLS the cookie carries the __Host- prefix: Secure, Path=/, no Domain (issue 12).
  EXPECT_TRUE(cookie.starts_with("__Host-tl_session=")) << cookie;
  EXPECT_NE(cookie.find("; Path=/"), npos) << cookie;
  EXPECT_EQ(cookie.find("Domain"), npos) << cookie;
  EXPECT_NE(cookie.find("; Secure"), npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), npos) << cookie;
  EXPECT_EQ(res.header("strict-transport-security"), "max-age=31536000");

  // The session carries on over HTTPS: create a user and a token, show its code.
  const Response me = admin.get("/api/v1/me");
  ASSERT_EQ(me.status, 200) << describe(me);
  EXPECT_EQ(me.json()["user"].str(), "admin");
  EXPECT_EQ(me.header("strict-transport-security"), "max-age=31536000");
  create_user(admin, "alice", {"api-tokens", "auditors"});
  HttpClient alice = login(server, "alice");  // server.client(): HTTPS
  const std::string id = create_token(alice, "over tls")["id"].str();
  EXPECT_TRUE(reveal(alice, id).starts_with("tlk_"));
  // A streamed (chunked) answer over TLS.
  const Response exported = alice.get("/api/v1/audit/export?format=jsonl");
  ASSERT_EQ(exported.status, 200) << describe(exported);
  EXPECT_NE(exported.body.find("\"TokenRevealed\""), npos) << exported.body;
  EXPECT_EQ(exported.header("strict-transport-security"), "max-age=31536000");
  // A page from the plain-http origin is another origin now.
  EXPECT_EQ(
      alice
          .post("/api/v1/tokens", token_body("x", 1), {{"Origin", "http://127.0.0.1:" + std::to_string(server.port())}})
          .error_code(),
      "csrf");
  const Response page = alice.get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("strict-transport-security"), "max-age=31536000");
  EXPECT_NE(page.header("content-security-policy"), "");

  // A TLS 1.2-only client gets through too (the TLS 1.2 cipher list suits the certificate); a
  // TLS 1.1 one does not.
  HttpClient tls12(server.port(), std::chrono::seconds(20),
                   {.ca_file = files.cert, .versions = TlsClientOptions::Versions::only_tls12});
  EXPECT_EQ(tls12.get("/healthz").status, 200);
  HttpClient tls11(server.port(), std::chrono::seconds(20),
                   {.ca_file = files.cert, .versions = TlsClientOptions::Versions::only_tls11});
  try {
    tls11.get("/healthz");
    ADD_FAILURE() << "a TLS 1.1 client was served";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("protocol version"), npos) << e.what();  // the server's alert
  }

  // The private key never reaches the output.
  const std::string key = slurp(files.key);
  const auto body_start = key.find('\n') + 1;
  ASSERT_GT(key.size(), body_start + 40);
  EXPECT_EQ(server.log().find(key.substr(body_start, 40)), npos);
}

TEST(TlsTest, PlainHttpOnTheHttpsPortIsRefusedAndServingGoesOn) {
  TestServer server;
  const CertFiles files = make_cert(server.root_dir(), "server");
  const CertFiles stranger = make_cert(server.root_dir(), "stranger");
  server.start({.extra_args = tls_args(files)});

  HttpClient plain(server.port());
  for (int i = 0; i < 3; ++i) {
    const Response res = plain.get("/healthz");
    EXPECT_EQ(res.status, 400) << describe(res);
    EXPECT_NE(res.body.find("HTTPS"), npos) << res.body;
    EXPECT_EQ(res.header("strict-transport-security"), "");  // meaningless, and ignored, over http://
  }
  // A client that does not trust the server's certificate fails its handshake; the client
  // does check what the server presents.
  HttpClient distrustful(server.port(), std::chrono::seconds(20), {.ca_file = stranger.cert});
  EXPECT_THROW(distrustful.get("/healthz"), std::runtime_error);
  // A TLS record that says ClientHello and holds nonsense: the handshake fails, the server
  // hangs up.
  HttpClient junk(server.port(), std::chrono::seconds(5));
  EXPECT_ANY_THROW(junk.raw_exchange(std::string("\x16\x03\x01\x00\x30\x01\x00\x00\x2c", 9) + std::string(44, 'x'), 1));

  HttpClient https = server.client();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(https.get("/healthz").status, 200);
  EXPECT_TRUE(server.running());
  EXPECT_EQ(server.stop(), 0);
}

TEST(TlsTest, ABadCertificateOrKeyStopsTheStartWithAClearMessage) {
  TestServer server;
  const CertFiles a = make_cert(server.root_dir(), "a");
  const CertFiles b = make_cert(server.root_dir(), "b");
  const std::string missing = server.root_dir() + "/missing.crt";

  std::string out = start_failure(server, {"--tls-cert", missing, "--tls-key", a.key});
  EXPECT_NE(out.find("cannot start: --tls-cert " + missing + ": No such file or directory"), npos) << out;
  out = start_failure(server, {"--tls-cert", a.cert, "--tls-key", b.key});
  EXPECT_NE(out.find("--tls-key " + b.key + " does not belong to the certificate in --tls-cert " + a.cert), npos)
      << out;
  out = start_failure(server, {"--tls-cert", a.key, "--tls-key", a.key});
  EXPECT_NE(out.find("--tls-cert " + a.key + ": no PEM certificate in it"), npos) << out;
  out = start_failure(server, {"--tls-cert", a.cert, "--tls-key", a.cert});
  EXPECT_NE(out.find("--tls-key " + a.cert + ": no PEM private key in it"), npos) << out;
  out = start_failure(server, {"--tls-cert", a.cert, "--tls-key", server.root_dir()});
  EXPECT_NE(out.find("--tls-key " + server.root_dir() + ": not a regular file"), npos) << out;
  out = start_failure(server, {"--tls-cert", a.cert});
  EXPECT_NE(out.find("--tls-cert and --tls-key go together"), npos) << out;
  // A key others may read is refused, as ssh refuses one.
  fs::permissions(a.key, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  out = start_failure(server, {"--tls-cert", a.cert, "--tls-key", a.key});
  EXPECT_NE(out.find("--tls-key " + a.key + ": group or others may access it"), npos) << out;
  fs::permissions(a.key, fs::perms::owner_read | fs::perms::owner_write);
  // Refused before anything was written: no database, no first-admin password spent.
  EXPECT_FALSE(fs::exists(server.data_dir())) << "the data directory was created by a start that failed";

  server.start({.extra_args = tls_args(a)});
  EXPECT_EQ(server.client().get("/healthz").status, 200);
}

}  // namespace
}  // namespace e2e
