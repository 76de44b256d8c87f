#include "domain/events.hpp"

#include <type_traits>

namespace tl {
namespace {
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;  // clang 14 (the fuzz build) does not deduce aggregates yet
}  // namespace

std::string_view event_type(const Event& event) noexcept {
  return std::visit(Overloaded{
                        [](const TokenCreated&) { return std::string_view{"TokenCreated"}; },
                        [](const TokenDescriptionChanged&) { return std::string_view{"TokenDescriptionChanged"}; },
                        [](const TokenTimeoutChanged&) { return std::string_view{"TokenTimeoutChanged"}; },
                        [](const TokenRevealed&) { return std::string_view{"TokenRevealed"}; },
                        [](const TokenDeleted&) { return std::string_view{"TokenDeleted"}; },
                        [](const TokenUsed&) { return std::string_view{"TokenUsed"}; },
                        [](const TokenExpiryNotified&) { return std::string_view{"TokenExpiryNotified"}; },
                        [](const UserCreated&) { return std::string_view{"UserCreated"}; },
                        [](const UserGroupsChanged&) { return std::string_view{"UserGroupsChanged"}; },
                        [](const UserPasswordChanged&) { return std::string_view{"UserPasswordChanged"}; },
                        [](const UserReauthenticated&) { return std::string_view{"UserReauthenticated"}; },
                        [](const UserDeleted&) { return std::string_view{"UserDeleted"}; },
                        [](const KeyCheckRecorded&) { return std::string_view{"KeyCheckRecorded"}; },
                        [](const UserDisabled&) { return std::string_view{"UserDisabled"}; },
                        [](const UserEnabled&) { return std::string_view{"UserEnabled"}; },
                        [](const BackupTaken&) { return std::string_view{"BackupTaken"}; },
                        [](const UserSignedIn&) { return std::string_view{"UserSignedIn"}; },
                        [](const UserSignInFailed&) { return std::string_view{"UserSignInFailed"}; },
                        [](const SessionEnded&) { return std::string_view{"SessionEnded"}; },
                        [](const AccessDenied&) { return std::string_view{"AccessDenied"}; },
                        [](const AuditRead&) { return std::string_view{"AuditRead"}; },
                        [](const AuditExported&) { return std::string_view{"AuditExported"}; },
                        [](const ServerStarted&) { return std::string_view{"ServerStarted"}; },
                        [](const ServerStopped&) { return std::string_view{"ServerStopped"}; },
                    },
                    event);
}

bool is_token_event(const Event& event) noexcept {
  return std::visit(
      [](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        return std::is_same_v<E, TokenCreated> || std::is_same_v<E, TokenDescriptionChanged> ||
               std::is_same_v<E, TokenTimeoutChanged> || std::is_same_v<E, TokenRevealed> ||
               std::is_same_v<E, TokenDeleted> || std::is_same_v<E, TokenUsed> ||
               std::is_same_v<E, TokenExpiryNotified>;
      },
      event);
}

bool is_access_event(const Event& event) noexcept {
  return std::visit(
      [](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        return std::is_same_v<E, UserSignedIn> || std::is_same_v<E, UserSignInFailed> ||
               std::is_same_v<E, SessionEnded> || std::is_same_v<E, AccessDenied> || std::is_same_v<E, AuditRead> ||
               std::is_same_v<E, AuditExported> || std::is_same_v<E, ServerStarted> || std::is_same_v<E, ServerStopped>;
      },
      event);
}

}  // namespace tl
