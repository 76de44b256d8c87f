#include "tools/server_session.hpp"

#include <simdjson.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "common/json_writer.hpp"

namespace tl::admin {
namespace {

// One line of standard input, without echo when it is a terminal (prompted on stderr).
std::string read_password(const std::string& user) {
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (terminal) {
    std::cerr << "Password for " << printable(user) << ": " << std::flush;
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string password;
  const bool got = static_cast<bool>(std::getline(std::cin, password));
  if (terminal) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (!got || password.empty()) throw UsageError("no password on standard input (give it as one line)");
  return password;
}

// The session cookie ("name=value") among the Set-Cookie headers of a sign-in.
std::string session_cookie(const ClientResponse& res) {
  for (const std::string& cookie : res.set_cookies) {
    const std::string pair = cookie.substr(0, cookie.find(';'));
    const std::string name = pair.substr(0, pair.find('='));
    if (name == "tl_session" || name == "__Host-tl_session") return pair;
  }
  return {};
}

}  // namespace

std::string server_message(const ClientResponse& res) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view code, message;
  if (parser.parse(res.body).get(doc) == simdjson::SUCCESS &&
      doc["error"]["message"].get(message) == simdjson::SUCCESS) {
    if (doc["error"]["code"].get(code) != simdjson::SUCCESS) code = "error";
    return std::to_string(res.status) + " " + std::string(code) + ": " + std::string(message);
  }
  return std::to_string(res.status) + ": " + res.body.substr(0, 200);
}

ErrorKind refusal(const ClientResponse& res) {
  return res.status == 401 || res.status == 403 || res.status == 409 || res.status == 429 ? ErrorKind::refused
                                                                                          : ErrorKind::failed;
}

ServerSession::ServerSession(const std::string& url, const std::string& user, const std::string& ca_file)
    : ca_file_(ca_file) {
  auto server = parse_server_url(url);
  if (!server) throw UsageError(server.error().message);
  server_ = std::move(*server);
  if (user.empty()) throw UsageError("--user: the account to sign in as (the password comes from standard input)");
  const std::string password = read_password(user);
  JsonWriter login;
  login.begin_object().key("username").value(user).key("password").value(password).end_object();
  auto signed_in =
      send_request(server_, "POST", "/api/v1/session", std::move(login).str(), {}, ca_file_, std::chrono::seconds(60));
  if (!signed_in) throw Failure(signed_in.error().message);
  if (signed_in->status / 100 != 2)
    throw Failure("sign-in refused: " + server_message(*signed_in), refusal(*signed_in));
  const std::string cookie = session_cookie(*signed_in);
  if (cookie.empty()) throw Failure("the server answered the sign-in without a session cookie");
  auth_ = {{"Cookie", cookie}};
}

ServerSession::~ServerSession() {
  (void)send_request(server_, "DELETE", "/api/v1/session", "", auth_, ca_file_, std::chrono::seconds(30));
}

ClientResponse ServerSession::send(std::string_view method, std::string_view path, std::string body,
                                   std::chrono::seconds timeout) const {
  auto res = send_request(server_, method, path, std::move(body), auth_, ca_file_, timeout);
  if (!res) throw Failure(res.error().message);
  return std::move(*res);
}

}  // namespace tl::admin
