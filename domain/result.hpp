// Errors a caller can act on, as values: a small code enum, named factories and a
// Result<T> shaped like absl::StatusOr. Codes map to HTTP statuses in one place (http/).
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tl {

enum class ErrorCode {
  invalid_json,
  invalid_field,
  unknown_field,
  unauthenticated,
  forbidden,
  insufficient_scope,  // an API token may not do this (RFC 6750 §3.1); its owner may
  csrf,
  reauthentication_required,
  password_change_required,
  not_found,
  method_not_allowed,
  misdirected_request,
  token_expired,
  version_conflict,
  precondition_failed,
  conflict,
  limit_exceeded,
  body_too_large,
  unsupported_media_type,
  rate_limited,
  unavailable,
  internal,
};

// The machine-readable name sent as {"error":{"code": ...}}.
std::string_view code_name(ErrorCode code) noexcept;

struct [[nodiscard]] Error {
  ErrorCode code;
  std::string message;

  static Error invalid_json(std::string m) { return {ErrorCode::invalid_json, std::move(m)}; }
  static Error invalid_field(std::string m) { return {ErrorCode::invalid_field, std::move(m)}; }
  static Error unknown_field(std::string m) { return {ErrorCode::unknown_field, std::move(m)}; }
  static Error unauthenticated(std::string m) { return {ErrorCode::unauthenticated, std::move(m)}; }
  static Error forbidden(std::string m) { return {ErrorCode::forbidden, std::move(m)}; }
  static Error not_found(std::string m) { return {ErrorCode::not_found, std::move(m)}; }
  static Error token_expired(std::string m) { return {ErrorCode::token_expired, std::move(m)}; }
  static Error version_conflict(std::string m) { return {ErrorCode::version_conflict, std::move(m)}; }
  static Error precondition_failed(std::string m) { return {ErrorCode::precondition_failed, std::move(m)}; }
  static Error conflict(std::string m) { return {ErrorCode::conflict, std::move(m)}; }
  static Error limit_exceeded(std::string m) { return {ErrorCode::limit_exceeded, std::move(m)}; }
  static Error rate_limited(std::string m) { return {ErrorCode::rate_limited, std::move(m)}; }
  static Error unavailable(std::string m) { return {ErrorCode::unavailable, std::move(m)}; }
  static Error internal(std::string m) { return {ErrorCode::internal, std::move(m)}; }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const& {
    assert(failed_);
    return error_;
  }
  Error&& error() && {
    assert(failed_);
    return std::move(error_);
  }

 private:
  Error error_{ErrorCode::internal, {}};
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace tl
