// tokenledger-bench-gen: writes a benchmark data directory that the server serves as is, or
// drops the projection checkpoint of one (see bench/dataset.hpp).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "bench/dataset.hpp"
#include "common/build_info.hpp"
#include "eventstore/rocksdb_version.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  // Stdout is the JSON summary alone (scripts parse it): the store's log lines go to stderr. What
  // it writes is owner-only, as the server's files are (it would tighten them at its start).
  spdlog::set_default_logger(spdlog::stderr_color_mt("tokenledger-bench-gen"));
  ::umask(077);
  tl::bench::DatasetOptions o;
  bool no_checkpoint = false;
  bool drop_checkpoint = false;
  bool drop_owner_index = false;
  po::options_description desc(
      "tokenledger-bench-gen: a benchmark data directory in the server's format\n\n"
      "Usage: tokenledger-bench-gen --data DIR --events N [options]\n"
      "       tokenledger-bench-gen --data DIR --drop-checkpoint | --drop-owner-index\n\n"
      "The server must run with --max-tokens-per-user of at least the summary's max_tokens_per_user\n"
      "(the bench user holds --codes live tokens; the default limit is 100).\n"
      "TOKENLEDGER_ADMIN_PASSWORD sets the password of 'admin' (otherwise random and not shown).\n\n"
      "Options");
  desc.add_options()("help,h", "print this help and exit")("version", "print the version and build, and exit")(
      "data", po::value(&o.dir)->required(), "the data directory to create (must not exist or be empty)")(
      "events", po::value(&o.events), "events in all")("live-tokens", po::value(&o.live_tokens),
                                                       "live tokens at the end [events/10]")(
      "users", po::value(&o.users)->default_value(o.users), "users owning the tokens, besides --user")(
      "user", po::value(&o.user)->default_value(o.user), "the bench user (groups api-tokens, auditors)")(
      "password", po::value(&o.password)->default_value(o.password), "its password")(
      "codes", po::value(&o.codes)->default_value(o.codes), "live tokens of the bench user")(
      "codes-out", po::value(&o.codes_out), "write '<token id> <code>' of the bench user's tokens here (0600)")(
      "no-checkpoint", po::bool_switch(&no_checkpoint), "leave no projection checkpoint (start-up folds from seq 1)")(
      "drop-checkpoint", po::bool_switch(&drop_checkpoint),
      "remove the projection state of an existing --data, then exit")(
      "drop-owner-index", po::bool_switch(&drop_owner_index),
      "remove the audit index's owner keys of an existing --data (as an earlier release left it), then exit");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    if (vm.count("version")) {
      std::cout << tl::version_text("tokenledger-bench-gen", tl::build_info(tl::rocksdb_version()));
      return 0;
    }
    po::notify(vm);
    if (!drop_checkpoint && !drop_owner_index && !vm.count("events")) throw po::error("--events is required");
  } catch (const po::error& e) {
    std::cerr << "tokenledger-bench-gen: " << e.what() << "\n(see --help)\n";
    return 2;
  }

  if (drop_checkpoint) {
    if (auto dropped = tl::bench::drop_projection_checkpoint(o.dir); !dropped) {
      std::cerr << "tokenledger-bench-gen: " << dropped.error().message << "\n";
      return 1;
    }
    std::cerr << "projection state of " << o.dir << " dropped: the next start folds from seq 1\n";
    return 0;
  }
  if (drop_owner_index) {
    if (auto dropped = tl::bench::drop_owner_index(o.dir); !dropped) {
      std::cerr << "tokenledger-bench-gen: " << dropped.error().message << "\n";
      return 1;
    }
    std::cerr << "owner keys of " << o.dir << " dropped: as_of folds the log until a writable start back-fills them\n";
    return 0;
  }
  o.checkpoint = !no_checkpoint;
  o.progress = true;
  auto summary = tl::bench::generate_dataset(o);
  if (!summary) {
    std::cerr << "tokenledger-bench-gen: " << summary.error().message << "\n";
    return 1;
  }
  const double rate = summary->seconds > 0 ? static_cast<double>(summary->events) / summary->seconds : 0;
  std::printf(
      "{\"events\":%llu,\"live_tokens\":%llu,\"users\":%llu,\"max_tokens_per_user\":%llu,\"seconds\":%.3f,"
      "\"events_per_second\":%.0f}\n",
      static_cast<unsigned long long>(summary->events), static_cast<unsigned long long>(summary->live_tokens),
      static_cast<unsigned long long>(summary->users), static_cast<unsigned long long>(summary->max_tokens_per_user),
      summary->seconds, rate);
  return 0;
}
