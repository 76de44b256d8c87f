// Backups while serving (issue 16): POST and GET /api/v1/admin/backups, GET …/backups/{name}
// (admins). The copy runs on the worker pool (the route is blocking), never on an I/O thread;
// BackupTaken is appended once the backup is written and verified.
#include <spdlog/spdlog.h>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "http/call.hpp"
#include "http/json_requests.hpp"
#include "http/responses.hpp"
#include "service/backup_runner.hpp"

namespace tl {
namespace {

using net::http::status;

constexpr std::string_view kBackupsPath = "/api/v1/admin/backups";

Timestamp from_unix_seconds(std::int64_t seconds) { return Timestamp(std::chrono::seconds(seconds)); }

void write_head(JsonWriter& w, const Head& head) {
  w.key("head").begin_object().key("seq").value(head.seq).key("hash").value(head.hash).end_object();
}

// One backup as GET lists it: name, created_at, head (null when its metadata is not ours),
// size, files, include_keys (null for backups made before issue 16).
void write_listing(JsonWriter& w, const BackupListing& b) {
  w.begin_object().key("name").value(std::to_string(b.entry.id));
  w.key("created_at").value(format_rfc3339(from_unix_seconds(b.entry.created_unix)));
  if (b.metadata) {
    write_head(w, b.metadata->head);
  } else {
    w.key("head").null();
  }
  w.key("size").value(b.entry.size).key("files").value(static_cast<std::uint64_t>(b.entry.files));
  w.key("include_keys");
  if (b.metadata && b.metadata->include_keys) {
    w.value(*b.metadata->include_keys);
  } else {
    w.null();
  }
  w.end_object();
}

Error not_configured() {
  return Error::unavailable("Backups are not configured: start the server with --backup-dir DIR.");
}

Result<std::vector<BackupListing>> listed(App& app) {
  auto backups = list_backups(app.backups->dir());
  if (!backups && backups.error().code == ErrorCode::not_found) return std::vector<BackupListing>{};  // none yet
  return backups;
}

}  // namespace

// POST /api/v1/admin/backups {"include_keys": false} -> 201 {"name", "created_at", "head":
// {"seq","hash"}, "include_keys", "size", "database_id", "key_files_in_directory"} with Location. 503 without
// --backup-dir or while writes are refused; 409 while another backup runs.
Reply handle_create_backup(App& app, Call& call) {
  auto body = parse_create_backup(call.req.body());
  if (!body) return error_response(body.error());
  if (app.backups == nullptr || !app.backups->configured()) return error_response(not_configured());
  // BackupTaken must be recorded: a server that cannot write takes no backup it could not audit.
  if (const std::string refused = app.store.writes_refused(); !refused.empty()) {
    return error_response(Error::unavailable("Writes are refused (" + refused + "), so no backup is taken."));
  }
  auto taken = app.backups->run(body->include_keys, call.ctx.actor.user);
  if (!taken) return error_response(taken.error());
  const std::uint32_t id = taken->id;
  return Pending(record_backup_taken(std::move(*taken), call.ctx), [&app, id](Result<BackupOutcome> recorded) {
    if (!recorded) {
      // Every backup in the directory is in the audit trail: one whose record failed goes.
      if (auto gone = app.backups->discard(id); !gone) {
        spdlog::error("backup {} was not recorded and could not be deleted: {}", id, gone.error().message);
      }
      return error_response(recorded.error());
    }
    const std::string name = std::to_string(recorded->id);
    JsonWriter w;
    w.begin_object().key("name").value(name);
    w.key("created_at").value(format_rfc3339(from_unix_seconds(recorded->created_unix)));
    write_head(w, recorded->head);
    w.key("include_keys").value(recorded->include_keys).key("size").value(recorded->size);
    w.key("database_id").value(recorded->database_id).key("key_files_in_directory").begin_array();
    for (const std::string& file : recorded->key_files_in_directory) w.value(file);
    w.end_array().end_object();
    auto res = json_response(status::created, std::move(w).str());
    res.set(net::http::field::location, std::string(kBackupsPath) + "/" + name);
    return res;
  });
}

// GET /api/v1/admin/backups -> {"backups": [listing…], "key_files": [names], "running": null |
// {"started_at", "bytes_copied"}}, oldest first. key_files: the key files in the directory (left
// by a backup with include_keys; a restore of any backup there can use them).
Reply handle_list_backups(App& app, Call&) {
  if (app.backups == nullptr || !app.backups->configured()) return error_response(not_configured());
  auto backups = listed(app);
  if (!backups) return error_response(backups.error());
  JsonWriter w;
  w.begin_object().key("backups").begin_array();
  for (const auto& b : *backups) write_listing(w, b);
  w.end_array().key("key_files").begin_array();
  for (const std::string& name : key_files_in(app.backups->dir())) w.value(name);
  w.end_array().key("running");
  if (auto running = app.backups->running()) {
    w.begin_object().key("started_at").value(format_rfc3339(running->started));
    w.key("bytes_copied").value(running->bytes_copied).end_object();
  } else {
    w.null();
  }
  w.end_object();
  return json_response(status::ok, std::move(w).str());
}

// GET /api/v1/admin/backups/{name} -> one listing; 404 when there is no such backup.
Reply handle_get_backup(App& app, Call& call) {
  if (app.backups == nullptr || !app.backups->configured()) return error_response(not_configured());
  auto backups = listed(app);
  if (!backups) return error_response(backups.error());
  for (const auto& b : *backups) {
    if (std::to_string(b.entry.id) != call.params[0]) continue;
    JsonWriter w;
    write_listing(w, b);
    return json_response(status::ok, std::move(w).str());
  }
  return error_response(Error::not_found("No such backup."));
}

}  // namespace tl
