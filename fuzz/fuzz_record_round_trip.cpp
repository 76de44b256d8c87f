// libFuzzer: encode -> decode round trips with arbitrary field bytes (issue 11). Whatever the
// fields hold, check_round_trip() (the appender's gate) must not crash; when every string is
// valid UTF-8 it must pass, and every string passed through to_valid_utf8() (the boundary
// where client text enters) must make it pass. A record it passes reads back to the same bytes.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "domain/text_rules.hpp"
#include "eventstore/codec.hpp"

namespace {

tl::Event some_event(FuzzedDataProvider& in) {
  auto text = [&] { return in.ConsumeRandomLengthString(64); };
  switch (in.ConsumeIntegralInRange<int>(0, 21)) {
    case 0:
      return tl::TokenCreated{"", text(), in.ConsumeIntegral<int>(), text(), text()};
    case 1:
      return tl::TokenDescriptionChanged{text()};
    case 2:
      return tl::TokenTimeoutChanged{in.ConsumeIntegral<int>()};
    case 3:
      return tl::TokenRevealed{};
    case 4:
      return tl::TokenDeleted{text()};
    case 5:
      return tl::TokenUsed{
          tl::Timestamp(std::chrono::milliseconds(in.ConsumeIntegralInRange<std::int64_t>(0, 253402300799999))),
          text()};
    case 6:
      return tl::TokenExpiryNotified{text(), in.ConsumeBool()};
    case 7:
      return tl::UserCreated{text(), {text(), text()}};
    case 8:
      return tl::UserGroupsChanged{{text()}};
    case 9:
      return tl::UserPasswordChanged{};
    case 10:
      return tl::UserReauthenticated{};
    case 11:
      return tl::UserDeleted{};
    case 12:
      return tl::BackupTaken{text(), in.ConsumeIntegral<std::uint64_t>(), text(), in.ConsumeBool()};
    case 14:
      return tl::UserSignedIn{};
    case 15:
      return tl::UserSignInFailed{text(), text(), text(), in.ConsumeIntegral<std::uint64_t>()};
    case 16:
      return tl::SessionEnded{text(), text()};
    case 17:
      return tl::AccessDenied{
          text(),
          text(),
          text(),
          in.ConsumeIntegral<int>(),
          text(),
          in.ConsumeIntegral<std::uint64_t>(),
          tl::Timestamp(std::chrono::milliseconds(in.ConsumeIntegralInRange<std::int64_t>(0, 253402300799999)))};
    case 18:
      return tl::AuditRead{text(), text()};
    case 19:
      return tl::AuditExported{text(), text()};
    case 20:
      return tl::ServerStarted{text(), text(), text(), text()};
    case 21:
      return tl::ServerStopped{text()};
    default:
      return tl::KeyCheckRecorded{text()};
  }
}

// Every string a record carries, for the checks below.
template <class F>
void for_each_string(tl::Record& r, F&& f) {
  for (std::string* s :
       {&r.stream, &r.actor.user, &r.actor.via_other, &r.actor.token_id, &r.actor.login_user, &r.actor.host,
        &r.actor.sudo_user, &r.source.ip, &r.source.user_agent, &r.source.request_id, &r.token_id, &r.owner}) {
    f(*s);
  }
  std::visit(
      [&](auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, tl::TokenCreated>) f(e.description), f(e.code_lookup), f(e.code_sealed);
        if constexpr (std::is_same_v<E, tl::TokenDescriptionChanged>) f(e.description);
        if constexpr (std::is_same_v<E, tl::TokenDeleted>) f(e.reason);
        if constexpr (std::is_same_v<E, tl::TokenUsed>) f(e.ip);
        if constexpr (std::is_same_v<E, tl::TokenExpiryNotified>) f(e.window);
        if constexpr (std::is_same_v<E, tl::UserCreated>) {
          f(e.username);
          for (auto& g : e.groups) f(g);
        }
        if constexpr (std::is_same_v<E, tl::UserGroupsChanged>) {
          for (auto& g : e.groups) f(g);
        }
        if constexpr (std::is_same_v<E, tl::KeyCheckRecorded>) f(e.master_key_check);
        if constexpr (std::is_same_v<E, tl::BackupTaken>) f(e.name), f(e.head_hash);
        if constexpr (std::is_same_v<E, tl::UserSignInFailed>) f(e.username), f(e.name_hash), f(e.reason);
        if constexpr (std::is_same_v<E, tl::SessionEnded>) f(e.username), f(e.reason);
        if constexpr (std::is_same_v<E, tl::AccessDenied>) f(e.method), f(e.route), f(e.target), f(e.code);
        if constexpr (std::is_same_v<E, tl::AuditRead>) f(e.route), f(e.filters);
        if constexpr (std::is_same_v<E, tl::AuditExported>) f(e.format), f(e.filters);
        if constexpr (std::is_same_v<E, tl::ServerStarted>) f(e.version), f(e.commit), f(e.options), f(e.verification);
        if constexpr (std::is_same_v<E, tl::ServerStopped>) f(e.reason);
      },
      r.event);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  tl::Record r;
  r.seq = in.ConsumeIntegral<std::uint64_t>();
  r.version = in.ConsumeIntegral<std::uint64_t>();
  r.at = tl::Timestamp(std::chrono::milliseconds(in.ConsumeIntegralInRange<std::int64_t>(0, 253402300799999)));
  r.event = some_event(in);
  // Any Via; the text of Via::other (any bytes, a known name among them) is set with the strings below.
  r.actor.via = static_cast<tl::Via>(in.ConsumeIntegralInRange<int>(0, static_cast<int>(tl::Via::system)));
  r.prev_hash = std::string(64, '0');
  for_each_string(r, [&](std::string& s) { s = in.ConsumeRandomLengthString(96); });
  static tl::RecordDecoder decoder;

  bool all_utf8 = true;
  for_each_string(r, [&](std::string& s) { all_utf8 = all_utf8 && tl::utf8_length(s).has_value(); });
  tl::encode_record(r);
  const auto checked = tl::check_round_trip(r, decoder);
  if (all_utf8 && !checked.ok()) __builtin_trap();  // valid text must always be storable
  if (checked.ok()) {
    auto back = tl::decode_record(r.raw);
    if (!back.ok() || !tl::record_hash_matches(back->raw)) __builtin_trap();
  }
  // Text made valid at the boundary always passes the appender's gate.
  for_each_string(r, [](std::string& s) { s = tl::to_valid_utf8(s, 512); });
  tl::encode_record(r);
  if (!tl::check_round_trip(r, decoder).ok()) __builtin_trap();
  return 0;
}
