#include "domain/result.hpp"

namespace tl {

std::string_view code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_json:
      return "invalid_json";
    case ErrorCode::invalid_field:
      return "invalid_field";
    case ErrorCode::unknown_field:
      return "unknown_field";
    case ErrorCode::unauthenticated:
      return "unauthenticated";
    case ErrorCode::forbidden:
      return "forbidden";
    case ErrorCode::insufficient_scope:
      return "insufficient_scope";
    case ErrorCode::csrf:
      return "csrf";
    case ErrorCode::reauthentication_required:
      return "reauthentication_required";
    case ErrorCode::password_change_required:
      return "password_change_required";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::method_not_allowed:
      return "method_not_allowed";
    case ErrorCode::misdirected_request:
      return "misdirected_request";
    case ErrorCode::token_expired:
      return "token_expired";
    case ErrorCode::version_conflict:
      return "version_conflict";
    case ErrorCode::precondition_failed:
      return "precondition_failed";
    case ErrorCode::conflict:
      return "conflict";
    case ErrorCode::limit_exceeded:
      return "limit_exceeded";
    case ErrorCode::body_too_large:
      return "body_too_large";
    case ErrorCode::unsupported_media_type:
      return "unsupported_media_type";
    case ErrorCode::rate_limited:
      return "rate_limited";
    case ErrorCode::unavailable:
      return "unavailable";
    case ErrorCode::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace tl
