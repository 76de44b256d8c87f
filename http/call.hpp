// One request as the handlers see it: the parsed target, who is calling, and from where.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "domain/user.hpp"
#include "http/app.hpp"
#include "http/net.hpp"
#include "service/command.hpp"

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

// A response whose body is written piece by piece: its head (status and headers; the server
// adds the common ones and the content type) and the body.
struct Streamed {
  net::Response head;
  StreamBody body;
};

// A command (service/command.hpp) the server runs without parking a thread: it asks next() for
// each append, awaits it on the I/O thread (async_append) and hands the result to appended();
// once next() gives nullopt, answer() builds the response from the command's outcome. The first
// next() runs where the handler ran (the worker pool for a blocking route), later ones on the I/O
// thread. Move-only.
class Pending {
 public:
  // `answer`: net::Response(Result<T>), or net::Response(Result<T>, const std::optional<AppendResult>&)
  // for an answer that names where the command's last append landed (a receipt); run once on the
  // thread that drove the command.
  template <class T, class Answer>
  Pending(Command<T> command, Answer answer)
      : run_(std::make_unique<Run<T, Answer>>(std::move(command), std::move(answer))) {}

  std::optional<AppendRequest> next() { return run_->next(); }
  void appended(Result<AppendResult> result) { run_->appended(std::move(result)); }
  net::Response answer() { return run_->answer(); }

 private:
  struct Erased {
    virtual ~Erased() = default;
    virtual std::optional<AppendRequest> next() = 0;
    virtual void appended(Result<AppendResult> result) = 0;
    virtual net::Response answer() = 0;
  };
  template <class T, class Answer>
  struct Run final : Erased {
    Run(Command<T> command, Answer a) : run(std::move(command)), answer_with(std::move(a)) {}
    std::optional<AppendRequest> next() override { return run.next(); }
    void appended(Result<AppendResult> result) override { run.appended(std::move(result)); }
    net::Response answer() override {
      if constexpr (std::is_invocable_v<Answer&, Result<T>, const std::optional<AppendResult>&>) {
        const std::optional<AppendResult> last = run.last_append();
        return answer_with(std::move(run).outcome(), last);
      } else {
        return answer_with(std::move(run).outcome());
      }
    }
    CommandRun<T> run;
    Answer answer_with;
  };
  std::unique_ptr<Erased> run_;
};

// What a handler returns: a whole response, a streamed one, or a command still to run.
using Reply = std::variant<net::Response, Streamed, Pending>;

struct Call {
  explicit Call(const net::Request& request) : req(request) {}

  const net::Request& req;
  std::vector<std::string> params;                        // the {} segments of the route, decoded
  std::map<std::string, std::string, std::less<>> query;  // decoded query parameters
  RequestContext ctx;                                     // actor is set once authenticated
  std::optional<UserState> user;
  std::string session_id;  // when authenticated by cookie
  Timestamp now{};

  const std::string* query_param(std::string_view name) const {
    auto it = query.find(name);
    return it == query.end() ? nullptr : &it->second;
  }
};

using Handler = Reply (*)(App& app, Call& call);

// Queues `request` with the store and completes on the caller's executor once the batch is
// durable or refused (the store calls back on its appender thread; this posts back).
template <class CompletionToken>
auto async_append(EventLog& store, AppendRequest request, CompletionToken&& token) {
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
Reply handle_healthz(App&, Call&);
Reply handle_readyz(App&, Call&);
Reply handle_web_asset(App&, Call&);
Reply handle_metrics(App&, Call&);
Reply handle_metrics_listener(App&, Call&);  // on --metrics-listen: no secret asked
Reply handle_openapi(App&, Call&);

Reply handle_login(App&, Call&);
Reply handle_logout(App&, Call&);
Reply handle_me(App&, Call&);
Reply handle_reauth(App&, Call&);
Reply handle_change_password(App&, Call&);
Reply handle_list_users(App&, Call&);
Reply handle_create_user(App&, Call&);
Reply handle_patch_user(App&, Call&);
Reply handle_delete_user(App&, Call&);
Reply handle_revoke_user_tokens(App&, Call&);

Reply handle_list_tokens(App&, Call&);
Reply handle_create_token(App&, Call&);
Reply handle_get_token(App&, Call&);
Reply handle_update_token(App&, Call&);
Reply handle_delete_token(App&, Call&);
Reply handle_reveal_token(App&, Call&);
Reply handle_token_history(App&, Call&);
Reply handle_introspect(App&, Call&);

Reply handle_audit_query(App&, Call&);
Reply handle_audit_verify(App&, Call&);
Reply handle_audit_export(App&, Call&);
Reply handle_audit_export_manifest(App&, Call&);
Reply handle_list_checkpoints(App&, Call&);
Reply handle_create_checkpoint(App&, Call&);
Reply handle_audit_stream(App&, Call&);
Reply handle_inclusion_proof(App&, Call&);
Reply handle_consistency_proof(App&, Call&);
Reply handle_receipt(App&, Call&);
Reply handle_add_cosignature(App&, Call&);

Reply handle_create_backup(App&, Call&);
Reply handle_list_backups(App&, Call&);
Reply handle_get_backup(App&, Call&);

}  // namespace tl
