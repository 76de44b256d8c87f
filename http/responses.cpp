#include "http/responses.hpp"

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "eventstore/codec.hpp"

namespace tl {

using net::http::status;

status status_for(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_json:
    case ErrorCode::invalid_field:
    case ErrorCode::unknown_field:
      return status::bad_request;
    case ErrorCode::unauthenticated:
      return status::unauthorized;
    case ErrorCode::forbidden:
    case ErrorCode::insufficient_scope:
    case ErrorCode::csrf:
    case ErrorCode::reauthentication_required:
    case ErrorCode::password_change_required:
      return status::forbidden;
    case ErrorCode::not_found:
      return status::not_found;
    case ErrorCode::method_not_allowed:
      return status::method_not_allowed;
    case ErrorCode::misdirected_request:
      return status::misdirected_request;
    case ErrorCode::token_expired:
    case ErrorCode::version_conflict:
    case ErrorCode::conflict:
    case ErrorCode::limit_exceeded:
      return status::conflict;
    case ErrorCode::precondition_failed:
      return status::precondition_failed;
    case ErrorCode::body_too_large:
      return status::payload_too_large;
    case ErrorCode::unsupported_media_type:
      return status::unsupported_media_type;
    case ErrorCode::rate_limited:
      return status::too_many_requests;
    case ErrorCode::unavailable:
      return status::service_unavailable;
    case ErrorCode::internal:
      return status::internal_server_error;
  }
  return status::internal_server_error;
}

net::Response json_response(status code, std::string body) {
  net::Response res{code, 11};
  res.set(net::http::field::content_type, "application/json; charset=utf-8");
  res.body() = std::move(body);
  return res;
}

net::Response error_response(const Error& error) {
  JsonWriter w;
  w.begin_object().key("error").begin_object().key("code").value(code_name(error.code));
  w.key("message").value(error.message).end_object().end_object();
  return json_response(status_for(error.code), std::move(w).str());
}

net::Response no_content() { return net::Response{status::no_content, 11}; }

std::string wire_bytes(const net::Response& res) {
  std::size_t size = 32 + res.body().size();
  for (const auto& field : res) size += field.name_string().size() + field.value().size() + 4;
  std::string out;
  out.reserve(size);
  out += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  const unsigned code = res.result_int();
  out.push_back(static_cast<char>('0' + code / 100 % 10));
  out.push_back(static_cast<char>('0' + code / 10 % 10));
  out.push_back(static_cast<char>('0' + code % 10));
  out.push_back(' ');
  out += res.reason();
  out += "\r\n";
  for (const auto& field : res) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
  out += res.body();
  return out;
}

std::string token_json(const TokenRow& row, Timestamp now) {
  const TokenState& s = row.state;
  JsonWriter w;
  w.begin_object()
      .key("id")
      .value(s.id)
      .key("description")
      .value(s.description)
      .key("timeout")
      .begin_object()
      .key("value")
      .value(s.timeout_days)
      .key("unit")
      .value("days")
      .end_object()
      .key("created_at")
      .value(format_rfc3339(s.created_at))
      .key("updated_at")
      .value(format_rfc3339(s.updated_at))
      .key("expires_at")
      .value(format_rfc3339(s.expires_at()))
      .key("expired")
      .value(s.expired(now))
      .key("masked")
      .value("••••••••••••••••")
      .key("version")
      .value(s.version);
  if (s.last_used_at) {
    w.key("last_used_at").value(format_rfc3339(*s.last_used_at)).key("last_used_ip").value(s.last_used_ip);
  } else {
    w.key("last_used_at").null().key("last_used_ip").null();
  }
  w.end_object();
  return std::move(w).str();
}

std::string user_json(const UserState& user, std::size_t live_tokens) {
  JsonWriter w;
  w.begin_object().key("username").value(user.username).key("groups").begin_array();
  for (const auto& g : user.groups) w.value(g);
  w.end_array().key("created_at").value(format_rfc3339(user.created_at));
  w.key("disabled").value(user.disabled).key("live_tokens").value(static_cast<std::uint64_t>(live_tokens));
  // Her live tokens validate only while she may hold tokens (issue 12: shown in the user list).
  w.key("tokens_active").value(user.may_hold_tokens());
  w.end_object();
  return std::move(w).str();
}

std::string events_json(const std::vector<Record>& records, std::string_view trailer, TokenDescriptions* descriptions) {
  std::string out = R"({"events":[)";
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0) out.push_back(',');
    const auto description = descriptions ? descriptions->at(records[i]) : std::nullopt;
    append_record_json(out, records[i], description);  // valid UTF-8 even for a record stored before the boundary check
  }
  out += "]";
  out += trailer;
  out += "}";
  return out;
}

}  // namespace tl
