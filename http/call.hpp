// One request as the handlers see it: the parsed target, who is calling, and from where.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/user.hpp"
#include "http/app.hpp"
#include "http/net.hpp"

namespace tl {

// A response body written piece by piece (chunked), in constant memory.
struct StreamBody {
  std::string content_type;
  // Appends the next piece to `out` (run on the worker pool); false when, for now, nothing more
  // is to come.
  std::function<bool(std::string& out)> next;
  // A live stream (Server-Sent Events) asks `next` again after a short wait, until the client
  // leaves or the server stops; otherwise false from `next` ends the body.
  bool live = false;
};

struct Call {
  explicit Call(const net::Request& request) : req(request) {}

  const net::Request& req;
  std::vector<std::string> params;                     // the {} segments of the route, decoded
  std::map<std::string, std::string, std::less<>> query;  // decoded query parameters
  RequestContext ctx;                                  // actor is set once authenticated
  std::optional<UserState> user;
  std::string session_id;  // when authenticated by cookie
  Timestamp now{};
  std::optional<StreamBody> stream;  // set by a handler that streams its body

  const std::string* query_param(std::string_view name) const {
    auto it = query.find(name);
    return it == query.end() ? nullptr : &it->second;
  }
};

using Handler = net::Response (*)(App& app, Call& call);

// Handlers, one group per file.
net::Response handle_healthz(App&, Call&);
net::Response handle_readyz(App&, Call&);
net::Response handle_web_asset(App&, Call&);
net::Response handle_metrics(App&, Call&);
net::Response handle_openapi(App&, Call&);

net::Response handle_login(App&, Call&);
net::Response handle_logout(App&, Call&);
net::Response handle_me(App&, Call&);
net::Response handle_reauth(App&, Call&);
net::Response handle_list_users(App&, Call&);
net::Response handle_create_user(App&, Call&);
net::Response handle_patch_user(App&, Call&);
net::Response handle_delete_user(App&, Call&);
net::Response handle_revoke_user_tokens(App&, Call&);

net::Response handle_list_tokens(App&, Call&);
net::Response handle_create_token(App&, Call&);
net::Response handle_get_token(App&, Call&);
net::Response handle_update_token(App&, Call&);
net::Response handle_delete_token(App&, Call&);
net::Response handle_reveal_token(App&, Call&);
net::Response handle_token_history(App&, Call&);
net::Response handle_introspect(App&, Call&);

net::Response handle_audit_query(App&, Call&);
net::Response handle_audit_verify(App&, Call&);
net::Response handle_audit_export(App&, Call&);
net::Response handle_list_checkpoints(App&, Call&);
net::Response handle_create_checkpoint(App&, Call&);
net::Response handle_audit_stream(App&, Call&);

}  // namespace tl
