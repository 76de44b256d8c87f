// End to end: the authorization matrix. Every route of http/router.cpp (kRoutes) is requested by
// each kind of caller, and each must get exactly its allowed status: anonymous, a user in no
// group, an api-tokens member (who owns the token under test), another api-tokens member, an
// auditor, an admin, and two Bearer API tokens: the owning member's, and the token of a user in
// every group (api-tokens, auditors, admins). A token may use the GET routes its owner may and
// nothing else (no scopes yet): every other route answers 403 insufficient_scope (kScope).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <functional>
#include <map>
#include <set>

#include "test_server.hpp"

namespace e2e {
namespace {

enum Role { kAnon, kPlain, kMember, kOther, kAuditor, kAdmin, kBearer, kBossBearer, kRoles };
constexpr std::array<const char*, kRoles> kRoleNames = {"anonymous",        "plain user",       "api-tokens member",
                                                        "other member",     "auditor",          "admin",
                                                        "api-token bearer", "all-groups bearer"};
// Expected 403 with code insufficient_scope and a Bearer challenge naming that error.
constexpr int kScope = 4030;

// Reads only the status line of a response (for the live SSE stream, which never ends).
int status_only(unsigned short port, const std::string& raw) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(raw.size())) {
    ::close(fd);
    throw std::runtime_error("connect/send failed");
  }
  std::string got;
  char buf[512];
  while (got.find("\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (got.size() < 12 || !got.starts_with("HTTP/1.1 ")) throw std::runtime_error("no status line: " + got);
  return std::stoi(got.substr(9, 3));
}

class AuthzMatrixE2E : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    create_user(*admin, "dave", {"api-tokens"});
    create_user(*admin, "aud", {"auditors"});
    create_user(*admin, "vic", {});
    create_user(*admin, "boss", {"api-tokens", "auditors", "admins"});
    clients.emplace(kAnon, server.client());
    clients.emplace(kPlain, login(server, "bob"));
    clients.emplace(kMember, login(server, "carol"));
    clients.emplace(kOther, login(server, "dave"));
    clients.emplace(kAuditor, login(server, "aud"));
    clients.emplace(kAdmin, HttpClient(std::move(*admin)));
    const Json token = create_token(clients.at(kMember), "bearer");
    bearer_code = reveal(clients.at(kMember), token["id"].str());
    clients.emplace(kBearer, server.client());
    HttpClient boss = login(server, "boss");
    boss_code = reveal(boss, create_token(boss, "boss bearer")["id"].str());
    clients.emplace(kBossBearer, server.client());
    target = create_token(clients.at(kMember), "target")["id"].str();
    target_seq = std::to_string(
        clients.at(kMember).get("/api/v1/tokens/" + target + "/history").json()["events"][0]["seq"].integer());
    // A signed tree head covering it, so that its owner's receipt is answered (owners wait for one).
    EXPECT_EQ(clients.at(kAuditor).post("/api/v1/audit/checkpoints", "").status, 201);
  }

  // A fresh token of the member, for requests that delete it.
  std::string fresh_token() { return create_token(clients.at(kMember), "doomed")["id"].str(); }
  std::string fresh_user() {
    const std::string name = "victim" + std::to_string(++users_made);
    create_user(clients.at(kAdmin), name, {});
    return name;
  }

  std::map<Role, HttpClient> clients;
  // The Authorization header of a bearer role, or "" for the others.
  std::string authorization(Role role) const {
    if (role == kBearer) return "Bearer " + bearer_code;
    if (role == kBossBearer) return "Bearer " + boss_code;
    return {};
  }

  std::string bearer_code;
  std::string boss_code;
  std::string target;
  std::string target_seq;  // the seq of the target's TokenCreated
  int users_made = 0;
};

struct Cell {
  std::string method;
  std::string path;  // "{T}": the member's token; "{T*}": a fresh one; "{U*}": a fresh user
  std::string body;
  std::array<int, kRoles> expected;  // anon, plain, member, other, auditor, admin, bearer, all-groups bearer
};

TEST_F(AuthzMatrixE2E, EveryRouteAndCallerGetsExactlyItsAnswer) {
  const std::string bob_login = R"({"username":"bob","password":)" + json_str(password_of("bob")) + "}";
  const std::string patch_token = R"({"description":"changed","timeout":{"value":20,"unit":"days"}})";
  // clang-format off
  const std::vector<Cell> cells = {
      {"GET",    "/healthz",                      "", {200, 200, 200, 200, 200, 200, 200, 200}},
      {"GET",    "/readyz",                       "", {200, 200, 200, 200, 200, 200, 200, 200}},
      {"GET",    "/api/v1/openapi.json",          "", {200, 200, 200, 200, 200, 200, 200, 200}},
      {"GET",    "/metrics",                      "", {401, 401, 401, 401, 401, 401, 401, 401}},
      {"GET",    "/",                             "", {200, 200, 200, 200, 200, 200, 200, 200}},
      {"GET",    "/app.js",                       "", {200, 200, 200, 200, 200, 200, 200, 200}},
      {"POST",   "/api/v1/session",               bob_login, {200, 200, 200, 200, 200, 200, 200, 200}},
      {"GET",    "/api/v1/me",                    "", {401, 200, 200, 200, 200, 200, 200, 200}},
      {"GET",    "/api/v1/users",                 "", {401, 403, 403, 403, 403, 200, kScope, kScope}},
      {"POST",   "/api/v1/users",                 "{new}", {401, 403, 403, 403, 403, 201, kScope, kScope}},
      {"PATCH",  "/api/v1/users/vic",             R"({"groups":[]})", {401, 403, 403, 403, 403, 200, kScope, kScope}},
      {"DELETE", "/api/v1/users/{U*}",            "", {401, 403, 403, 403, 403, 204, kScope, kScope}},
      {"POST",   "/api/v1/users/vic/revoke-tokens", R"({"reason":"matrix"})", {401, 403, 403, 403, 403, 200, kScope, kScope}},
      {"GET",    "/api/v1/tokens",                "", {401, 403, 200, 200, 403, 403, 200, 200}},
      {"GET",    "/api/v1/tokens?owner=carol",    "", {401, 403, 403, 403, 200, 403, 403, 200}},
      {"POST",   "/api/v1/tokens",                token_body("matrix", 10), {401, 403, 201, 201, 403, 403, kScope, kScope}},
      {"GET",    "/api/v1/tokens/{T}",            "", {401, 403, 200, 404, 403, 403, 200, 404}},
      {"PATCH",  "/api/v1/tokens/{T}",            patch_token, {401, 403, 200, 404, 403, 403, kScope, kScope}},
      {"POST",   "/api/v1/tokens/{T}/reveal",     "", {401, 403, 200, 404, 403, 403, kScope, kScope}},
      {"GET",    "/api/v1/tokens/{T}/history",    "", {401, 403, 200, 404, 403, 403, 200, 404}},
      {"DELETE", "/api/v1/tokens/{T*}",           "", {401, 403, 204, 404, 403, 403, kScope, kScope}},
      {"POST",   "/api/v1/introspect",            "token=tlk_x", {401, 401, 401, 401, 401, 401, 401, 401}},
      {"GET",    "/api/v1/audit",                 "", {401, 403, 403, 403, 200, 403, 403, 200}},
      {"GET",    "/api/v1/audit/verify",          "", {401, 403, 403, 403, 200, 403, 403, 200}},
      {"GET",    "/api/v1/audit/checkpoints",     "", {401, 403, 403, 403, 200, 403, 403, 200}},
      {"POST",   "/api/v1/audit/checkpoints",     "", {401, 403, 403, 403, 201, 403, kScope, kScope}},
      {"GET",    "/api/v1/audit/export",          "", {401, 403, 403, 403, 200, 403, 403, 200}},
      {"GET",    "/api/v1/audit/export/manifest", "", {401, 403, 403, 403, 200, 403, 403, 200}},
      {"GET",    "/api/v1/audit/stream",          "", {401, 403, 403, 403, 200, 403, 403, 200}},
      // Proofs: auditors for any event, the owner for her tokens' events (another's is 404).
      {"GET",    "/api/v1/audit/proof/inclusion?seq={S}", "", {401, 404, 200, 404, 200, 404, 200, 200}},
      {"GET",    "/api/v1/audit/proof/consistency?from=1&to=2", "", {401, 200, 200, 200, 200, 200, 200, 200}},
      {"GET",    "/api/v1/audit/receipts/{S}",    "", {401, 404, 200, 404, 200, 404, 200, 200}},
      // Auditors with a session; an empty body reaches the handler (400: tree_size required).
      {"POST",   "/api/v1/audit/cosignatures",    "{}", {401, 403, 403, 403, 400, 403, kScope, kScope}},
      // Admins only, bearer tokens never; this server has no --backup-dir, so an admin gets 503.
      {"POST",   "/api/v1/admin/backups",         R"({"include_keys":false})", {401, 403, 403, 403, 403, 503, kScope, kScope}},
      {"GET",    "/api/v1/admin/backups",         "", {401, 403, 403, 403, 403, 503, kScope, kScope}},
      {"GET",    "/api/v1/admin/backups/1",       "", {401, 403, 403, 403, 403, 503, kScope, kScope}},
      {"POST",   "/api/v1/session/reauth",        "{pw}", {401, 204, 204, 204, 204, 204, kScope, kScope}},
      // A new password that breaks the rules (400) reaches the handler without changing anything.
      {"PATCH",  "/api/v1/me/password",           R"({"current":"x","new":"short"})", {401, 400, 400, 400, 400, 400, kScope, kScope}},
      // Last: signing out ends the sessions the rows above used.
      {"DELETE", "/api/v1/session",               "", {401, 204, 204, 204, 204, 204, kScope, kScope}},
  };
  // clang-format on
  const std::map<Role, std::string> users = {{kPlain, "bob"},      {kMember, "carol"}, {kOther, "dave"},
                                             {kAuditor, "aud"},    {kAdmin, "admin"},  {kBearer, "carol"},
                                             {kBossBearer, "boss"}};
  std::set<std::pair<std::string, std::string>> covered;
  int checked = 0;
  for (const Cell& cell : cells) {
    covered.emplace(cell.method, cell.path.substr(0, cell.path.find('?')));
    for (int r = 0; r < kRoles; ++r) {
      const Role role = static_cast<Role>(r);
      std::string path = cell.path;
      if (auto at = path.find("{T}"); at != std::string::npos) path.replace(at, 3, target);
      if (auto at = path.find("{S}"); at != std::string::npos) path.replace(at, 3, target_seq);
      if (auto at = path.find("{T*}"); at != std::string::npos) path.replace(at, 4, fresh_token());
      if (auto at = path.find("{U*}"); at != std::string::npos) path.replace(at, 4, fresh_user());
      std::string body = cell.body;
      if (body == "{new}")
        body = R"({"username":"made)" + std::to_string(r) + R"(","password":"a long password","groups":[]})";
      if (body == "{pw}") {
        const std::string who = users.contains(role) ? users.at(role) : "nobody";
        body = R"({"password":)" + json_str(who == "admin" ? kAdminPassword : password_of(who)) + "}";
      }
      int status = 0;
      if (cell.path == "/api/v1/audit/stream") {
        std::string raw = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
        if (!authorization(role).empty()) raw += "Authorization: " + authorization(role) + "\r\n";
        if (const std::string sid = clients.at(role).cookie("tl_session"); !sid.empty()) {
          raw += "Cookie: tl_session=" + sid + "\r\n";
        }
        status = status_only(server.port(), raw + "\r\n");
      } else {
        Headers headers;
        if (!authorization(role).empty()) headers.emplace_back("Authorization", authorization(role));
        if (cell.path == "/api/v1/introspect")
          headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        // Signing in would change who the role's client is: sign in on a copy of it.
        const bool login_row = cell.method == "POST" && cell.path == "/api/v1/session";
        HttpClient copy = server.client();
        if (login_row && !clients.at(role).cookie("tl_session").empty()) {
          copy.set_cookie("tl_session", clients.at(role).cookie("tl_session"));
        }
        const Response res = (login_row ? copy : clients.at(role)).request(cell.method, path, body, headers);
        status = res.status;
        if (cell.expected[r] == kScope) {
          EXPECT_EQ(res.error_code(), "insufficient_scope")
              << cell.method << " " << cell.path << " as " << kRoleNames[r] << ": " << describe(res);
          // RFC 6750 §3: the challenge names the error, and the scope only where it would help.
          const std::string challenge = res.header("www-authenticate");
          EXPECT_NE(challenge.find(R"(error="insufficient_scope")"), std::string::npos) << cell.path;
          const bool manage = cell.path.starts_with("/api/v1/tokens");
          EXPECT_EQ(challenge.find(R"(scope="tokenledger:manage")") != std::string::npos, manage)
              << cell.method << " " << cell.path << ": " << challenge;
          status = status == 403 ? kScope : status;
        }
        EXPECT_EQ(status, cell.expected[r])
            << cell.method << " " << cell.path << " as " << kRoleNames[r] << ": " << describe(res);
        ++checked;
        continue;
      }
      EXPECT_EQ(status, cell.expected[r]) << cell.method << " " << cell.path << " as " << kRoleNames[r];
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(cells.size()) * kRoles);

  // The table covers every route the server has (a new route must be added here).
  HttpClient anon = server.client();
  const Json spec = anon.get("/api/v1/openapi.json").json();
  std::set<std::string> missing;
  for (const std::string& route : spec["paths"].keys()) {
    for (const std::string& method : spec["paths"][route].keys()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::string pattern = route;
      bool any = false;
      for (const auto& [m, p] : covered) {
        if (m != upper) continue;
        // {param} in the spec matches any concrete segment in the table.
        std::size_t i = 0, j = 0;
        bool ok = true;
        while (ok && i < pattern.size() && j < p.size()) {
          if (pattern[i] == '{') {
            i = pattern.find('}', i) + 1;
            j = p.find('/', j);
            if (j == std::string::npos) j = p.size();
          } else {
            ok = pattern[i++] == p[j++];
          }
        }
        if (ok && i == pattern.size() && j == p.size()) any = true;
      }
      if (!any) missing.insert(upper + " " + route);
    }
  }
  for (const std::string& m : missing) ADD_FAILURE() << "route not in the authorization matrix: " << m;
}

}  // namespace
}  // namespace e2e
