#include "projections/audit_csv.hpp"

#include "common/time_format.hpp"
#include "projections/audit_index.hpp"

namespace tl {
namespace {

bool starts_formula(std::string_view v) {
  return !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@');
}

void append_field(std::string& out, std::string_view v) {
  const bool formula = starts_formula(v);
  if (!formula && v.find_first_of(",\"\n\r") == std::string_view::npos) {
    out += v;
    return;
  }
  out.push_back('"');
  if (formula) out.push_back('\'');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

void append_audit_csv_header(std::string& out) {
  out += kAuditCsvHeader;
  out += "\r\n";
}

std::string access_event_details(const Event& event) {
  std::string out;
  auto word = [&](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    if (!out.empty()) out += ' ';
    if (!name.empty()) out.append(name).push_back('=');
    out += value;
  };
  auto count = [&](std::uint64_t n) {
    if (n != 1) word("count", std::to_string(n));
  };
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, UserSignedIn>) {
          count(e.count);
        } else if constexpr (std::is_same_v<E, UserSignInFailed>) {
          word("reason", e.reason), word("username", e.username), word("name_hash", e.name_hash), count(e.count);
        } else if constexpr (std::is_same_v<E, SessionEnded>) {
          word("username", e.username), word("reason", e.reason), count(e.count);
        } else if constexpr (std::is_same_v<E, AccessDenied>) {
          word({}, e.method), word({}, e.route), word({}, std::to_string(e.status)), word({}, e.code);
          word("target", e.target), count(e.count);
          if (e.count != 1) word("first_at", format_rfc3339(e.first_at));
        } else if constexpr (std::is_same_v<E, AuditRead>) {
          word("route", e.route), word("filters", e.filters), count(e.count);
        } else if constexpr (std::is_same_v<E, AuditExported>) {
          word("format", e.format), word("filters", e.filters), count(e.count);
        } else if constexpr (std::is_same_v<E, ServerStarted>) {
          word("version", e.version), word("commit", e.commit), word("verification", e.verification);
          word({}, e.options);
        } else if constexpr (std::is_same_v<E, ServerStopped>) {
          word("reason", e.reason);
        }
      },
      event);
  return out;
}

AuditCsvRows::AuditCsvRows(const AuditIndex& index)
    : created_at_([&index](const std::string& token_id) -> std::optional<Timestamp> {
        auto created = index.query({.token_id = token_id, .type = "TokenCreated"}, 1);
        if (!created || created->events.empty()) return std::nullopt;
        return created->events.front().at;
      }) {}

std::optional<Timestamp> AuditCsvRows::creation_of(const std::string& token_id) {
  if (auto it = created_.find(token_id); it != created_.end()) return it->second;
  std::optional<Timestamp> at = created_at_ ? created_at_(token_id) : std::nullopt;
  if (at) created_.emplace(token_id, *at);
  return at;
}

void AuditCsvRows::append(std::string& out, const Record& r) {
  std::string description, timeout, expires, reason, groups;
  auto expiry = [&](Timestamp created, int days) { expires = format_rfc3339(created + Days{days}); };
  auto group_list = [&](const std::vector<std::string>& names) {
    for (const auto& g : names) groups += (groups.empty() ? "" : " ") + g;
  };
  if (const auto* created = std::get_if<TokenCreated>(&r.event)) {
    if (created_.size() >= 100000) created_.clear();
    created_.emplace(r.stream, r.at);
    description = created->description, timeout = std::to_string(created->timeout_days);
    expiry(r.at, created->timeout_days);
  } else if (const auto* renamed = std::get_if<TokenDescriptionChanged>(&r.event)) {
    description = renamed->description;
  } else if (const auto* extended = std::get_if<TokenTimeoutChanged>(&r.event)) {
    timeout = std::to_string(extended->timeout_days);
    if (auto at = creation_of(r.stream)) expiry(*at, extended->timeout_days);
  } else if (const auto* deleted = std::get_if<TokenDeleted>(&r.event)) {
    reason = deleted->reason;
  } else if (const auto* user = std::get_if<UserCreated>(&r.event)) {
    group_list(user->groups);
  } else if (const auto* changed = std::get_if<UserGroupsChanged>(&r.event)) {
    group_list(changed->groups);
  } else if (const auto* failed = std::get_if<UserSignInFailed>(&r.event)) {
    reason = failed->reason;
  } else if (const auto* ended = std::get_if<SessionEnded>(&r.event)) {
    reason = ended->reason;
  } else if (const auto* stopped = std::get_if<ServerStopped>(&r.event)) {
    reason = stopped->reason;
  }
  const std::string details = access_event_details(r.event);
  const std::string fields[] = {std::to_string(r.seq),
                                format_rfc3339(r.at),
                                std::string(event_type(r.event)),
                                r.stream,
                                std::to_string(r.version),
                                r.actor.user,
                                std::string(r.actor.stored_via()),
                                r.source.ip,
                                r.source.user_agent,
                                r.source.request_id,
                                r.token_id,
                                r.owner,
                                r.hash,
                                r.source.client_request_id,
                                r.source.peer,
                                description,
                                timeout,
                                expires,
                                reason,
                                groups,
                                r.actor.token_id,
                                details};
  for (std::size_t i = 0; i < std::size(fields); ++i) {
    if (i > 0) out.push_back(',');
    append_field(out, fields[i]);
  }
  out += "\r\n";
}

}  // namespace tl
