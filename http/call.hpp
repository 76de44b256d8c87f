// One request as the handlers see it: the parsed target, who is calling, and from where.
#pragma once

#include <functional>
#include <memory>
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
  // Asked before every call of `next` (a live stream's at least every 250 ms, on the worker
  // pool) when set: false ends the body at once, without its final chunk, so the client sees it
  // cut short (the caller lost access while it ran).
  std::function<bool()> allowed;
};

struct Call;

// A write a handler decided on but does not wait for: the server queues the append and, once
// its batch is durable (or refused), answers with `then` on an I/O thread. No thread is parked
// on the fsync. `then` may set Call::append again (a retry after a version conflict).
struct PendingAppend {
  AppendRequest request;
  std::function<net::Response(App& app, Call& call, Result<AppendResult> appended)> then;
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
  std::optional<PendingAppend> append;  // set by a handler that answers after an append

  const std::string* query_param(std::string_view name) const {
    auto it = query.find(name);
    return it == query.end() ? nullptr : &it->second;
  }
};

using Handler = net::Response (*)(App& app, Call& call);

// Queues `request` with the store and completes on the caller's executor once the batch is
// durable or refused (the store calls back on its appender thread; this posts back).
template <class CompletionToken>
auto async_append(EventStore& store, AppendRequest request, CompletionToken&& token) {
  return net::asio::async_initiate<CompletionToken, void(Result<AppendResult>)>(
      [&store](auto handler, AppendRequest req) {
        using H = decltype(handler);
        struct State {
          explicit State(H h) : handler(std::move(h)), work(net::asio::get_associated_executor(handler)) {}
          H handler;
          net::asio::executor_work_guard<net::asio::associated_executor_t<H>> work;  // keeps the loop running
        };
        auto state = std::make_shared<State>(std::move(handler));
        store.append_async(std::move(req), [state](Result<AppendResult> appended) {
          auto executor = state->work.get_executor();
          net::asio::post(executor, [state, appended = std::move(appended)]() mutable {
            state->work.reset();
            std::move(state->handler)(std::move(appended));
          });
        });
      },
      token, std::move(request));
}

// Handlers, one group per file.
net::Response handle_healthz(App&, Call&);
net::Response handle_readyz(App&, Call&);
net::Response handle_web_asset(App&, Call&);
net::Response handle_metrics(App&, Call&);
net::Response handle_metrics_listener(App&, Call&);  // on --metrics-listen: no secret asked
net::Response handle_openapi(App&, Call&);

net::Response handle_login(App&, Call&);
net::Response handle_logout(App&, Call&);
net::Response handle_me(App&, Call&);
net::Response handle_reauth(App&, Call&);
net::Response handle_change_password(App&, Call&);
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
net::Response handle_audit_export_manifest(App&, Call&);
net::Response handle_list_checkpoints(App&, Call&);
net::Response handle_create_checkpoint(App&, Call&);
net::Response handle_audit_stream(App&, Call&);

}  // namespace tl
