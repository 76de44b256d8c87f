// rebuild: folds every persisted projection (the audit index, the token and user tables and
// their checkpoint) again from seq 1.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <optional>

#include "common/json_writer.hpp"
#include "projections/read_model.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"
#include "tools/progress.hpp"
#include "tools/store_access.hpp"

namespace tl::admin {
namespace {

constexpr const char* kAbout =
    "Drops every persisted projection (the audit index, the token and user tables and their\n"
    "checkpoint) and folds them again from seq 1, with a progress bar on stderr and the count\n"
    "and rate at the end. The log itself is only read. Use it after a projection format changed\n"
    "or a projection is suspected to be wrong; the server does the same folding at start-up\n"
    "from its last checkpoint.\n\n"
    "Needs the database to itself: stop the server first.";

}  // namespace

int cmd_rebuild(int argc, char** argv) {
  std::string data;
  bool json = false;
  Command cmd("rebuild", "[--data DIR] [--json]", kAbout);
  cmd.data_option(data).json_option(json);
  if (!cmd.parse(argc, argv)) return kExitOk;

  auto store = open_store(DataDir{data}, Access::writable);
  ReadModel model(*store);
  const std::uint64_t events = store->head().seq;
  // ReadModel::rebuild reports the audit index first, then the tables, each counting from 0:
  // one bar per phase.
  const auto start = std::chrono::steady_clock::now();
  std::optional<Progress> progress;
  progress.emplace("rebuilding 1/2: audit index", events);
  std::uint64_t last = 0;
  bool second = false;
  auto status = model.rebuild([&](std::uint64_t n) {
    if (n <= last && !second) {
      progress->finish();
      progress.emplace("rebuilding 2/2: token and user tables", events);
      second = true;
    }
    last = n;
    progress->update(n);
  });
  progress.reset();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!status) throw Failure("rebuild failed: " + status.error().message + " (run it again; the log is unchanged)");
  const std::size_t tokens = model.tokens().size();
  const std::size_t users = model.users().list().size();
  store->close();

  const double rate = seconds > 0 ? static_cast<double>(events) / seconds : 0;
  if (json) {
    JsonWriter w;
    w.begin_object().key("events").value(events).key("seconds").raw(fmt::format("{:.3f}", seconds));
    w.key("events_per_second").value(static_cast<std::uint64_t>(rate));
    w.key("tokens")
        .value(static_cast<std::uint64_t>(tokens))
        .key("active_users")
        .value(static_cast<std::uint64_t>(users));
    w.end_object();
    std::cout << std::move(w).str() << "\n";
  } else {
    std::cout << "Rebuilt the projections of " << data << " from seq 1.\n"
              << "  events   " << with_commas(events) << "\n"
              << "  time     " << fmt::format("{:.2f} s", seconds) << "\n"
              << "  rate     " << with_commas(static_cast<std::uint64_t>(rate)) << " events/s\n"
              << "  tokens   " << tokens << " live\n"
              << "  users    " << users << " active\n";
  }
  return kExitOk;
}

}  // namespace tl::admin
