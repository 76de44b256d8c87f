#include "http/route_table.hpp"

#include <array>

#include "domain/user.hpp"

namespace tl {
namespace {

using net::http::verb;

constexpr std::string_view kApiTokens = kGroupApiTokens;
constexpr std::string_view kAuditors = kGroupAuditors;
constexpr std::string_view kAdmins = kGroupAdmins;
constexpr std::string_view kAuditQuery = "token_id actor owner type since until after_seq limit";
constexpr std::string_view kExportQuery = "token_id actor owner type since until after_seq head_seq format bom";
constexpr std::string_view kManifestQuery = "token_id actor owner type since until after_seq head_seq";
constexpr std::string_view kStreamQuery = "token_id actor owner type since until after_seq";
constexpr std::string_view kTokensQuery = "owner as_of expiring_within";
constexpr std::string_view kVerifyQuery = "full";

constexpr RouteFlag kJson = RouteFlag::json_body;
constexpr RouteFlag kDuringChange = RouteFlag::during_password_change;
constexpr BearerUse kOwnerReads = BearerUse::owner_reads;

// clang-format off
constexpr std::array kRoutes = {
    Route{verb::get,    "/healthz",                        Access::open,      {},         false, handle_healthz, kQueryNotRead},
    Route{verb::get,    "/readyz",                         Access::open,      {},         false, handle_readyz, kQueryNotRead},
    Route{verb::get,    "/api/v1/openapi.json",            Access::open,      {},         false, handle_openapi, kQueryNotRead},
    Route{verb::get,    "/metrics",                        Access::open,      {},         false, handle_metrics, kQueryNotRead, kOwnerReads, RouteFlag::metrics},
    Route{verb::get,    "/",                               Access::open,      {},         false, handle_web_asset, kQueryNotRead},
    Route{verb::get,    "/{}",                             Access::open,      {},         false, handle_web_asset, kQueryNotRead},
    Route{verb::post,   "/api/v1/session",                 Access::open,      {},         true, handle_login, {}, kOwnerReads, kJson},
    Route{verb::delete_, "/api/v1/session",                Access::signed_in, {},         false, handle_logout, {}, BearerUse::never, kDuringChange},
    Route{verb::post,   "/api/v1/session/reauth",          Access::signed_in, {},         true, handle_reauth, {}, BearerUse::never, kJson},
    Route{verb::get,    "/api/v1/me",                      Access::signed_in, {},         false, handle_me, {}, kOwnerReads, kDuringChange},
    Route{verb::patch,  "/api/v1/me/password",             Access::signed_in, {},         true, handle_change_password, {}, BearerUse::never, kJson | kDuringChange},
    Route{verb::get,    "/api/v1/users",                   Access::group,     kAdmins,    false, handle_list_users, {}, BearerUse::never},
    Route{verb::post,   "/api/v1/users",                   Access::group,     kAdmins,    true, handle_create_user, {}, BearerUse::never, kJson},
    Route{verb::patch,  "/api/v1/users/{}",                Access::group,     kAdmins,    true, handle_patch_user, {}, BearerUse::never, kJson},
    Route{verb::delete_, "/api/v1/users/{}",               Access::group,     kAdmins,    true, handle_delete_user, {}, BearerUse::never},
    Route{verb::post,   "/api/v1/users/{}/revoke-tokens",  Access::group,     kAdmins,    true, handle_revoke_user_tokens, {}, BearerUse::never, kJson},
    Route{verb::get,    "/api/v1/tokens",                  Access::signed_in, {},         true, handle_list_tokens, kTokensQuery},
    Route{verb::post,   "/api/v1/tokens",                  Access::group,     kApiTokens, true, handle_create_token, {}, BearerUse::manage, kJson},
    Route{verb::get,    "/api/v1/tokens/{}",               Access::group,     kApiTokens, false, handle_get_token, {}},
    Route{verb::patch,  "/api/v1/tokens/{}",               Access::group,     kApiTokens, true, handle_update_token, {}, BearerUse::manage, kJson},
    Route{verb::delete_, "/api/v1/tokens/{}",              Access::group,     kApiTokens, true, handle_delete_token, {}, BearerUse::manage},
    Route{verb::post,   "/api/v1/tokens/{}/reveal",        Access::group,     kApiTokens, false, handle_reveal_token, {}, BearerUse::manage},
    Route{verb::get,    "/api/v1/tokens/{}/history",       Access::group,     kApiTokens, true, handle_token_history, {}},
    Route{verb::post,   "/api/v1/introspect",              Access::open,      {},         false, handle_introspect, {}, kOwnerReads, RouteFlag::cross_site_allowed | RouteFlag::answers_from_memory},
    Route{verb::get,    "/api/v1/audit",                   Access::group,     kAuditors,  true, handle_audit_query, kAuditQuery},
    Route{verb::get,    "/api/v1/audit/verify",            Access::group,     kAuditors,  true, handle_audit_verify, kVerifyQuery},
    Route{verb::get,    "/api/v1/audit/checkpoints",       Access::group,     kAuditors,  true, handle_list_checkpoints, {}},
    Route{verb::post,   "/api/v1/audit/checkpoints",       Access::group,     kAuditors,  true, handle_create_checkpoint, {}, BearerUse::never},
    Route{verb::get,    "/api/v1/audit/export",            Access::group,     kAuditors,  true, handle_audit_export, kExportQuery},
    Route{verb::get,    "/api/v1/audit/export/manifest",   Access::group,     kAuditors,  true, handle_audit_export_manifest, kManifestQuery},
    Route{verb::get,    "/api/v1/audit/stream",            Access::group,     kAuditors,  true, handle_audit_stream, kStreamQuery},
    // Auditors for any event, a token's owner for her tokens' events (the handlers decide).
    Route{verb::get,    "/api/v1/audit/proof/inclusion",   Access::signed_in, {},         true, handle_inclusion_proof, "seq tree_size"},
    Route{verb::get,    "/api/v1/audit/proof/consistency", Access::signed_in, {},         true, handle_consistency_proof, "from to"},
    Route{verb::get,    "/api/v1/audit/receipts/{}",       Access::signed_in, {},         true, handle_receipt, {}},
    Route{verb::post,   "/api/v1/audit/cosignatures",      Access::group,     kAuditors,  true, handle_add_cosignature, {}, BearerUse::never, kJson},
    Route{verb::post,   "/api/v1/admin/backups",           Access::group,     kAdmins,    true, handle_create_backup, {}, BearerUse::never, kJson},
    Route{verb::get,    "/api/v1/admin/backups",           Access::group,     kAdmins,    true, handle_list_backups, {}, BearerUse::never},
    Route{verb::get,    "/api/v1/admin/backups/{}",        Access::group,     kAdmins,    true, handle_get_backup, {}, BearerUse::never},
};
// clang-format on

}  // namespace

std::span<const Route> route_table() { return kRoutes; }

}  // namespace tl
