// Building responses: JSON bodies, the error body, and the one mapping of error codes to
// HTTP statuses.
#pragma once

#include <string>

#include "domain/result.hpp"
#include "domain/token.hpp"
#include "domain/user.hpp"
#include "eventstore/record.hpp"
#include "http/net.hpp"
#include "projections/token_descriptions.hpp"
#include "projections/token_table.hpp"

namespace tl {

net::http::status status_for(ErrorCode code) noexcept;

net::Response json_response(net::http::status status, std::string body);
net::Response error_response(const Error& error);
net::Response no_content();

// The response as it goes on the wire (status line, fields, body) in one buffer, so the server
// writes it with one send and no serializer. For responses with a known length: after
// finish_response (which sets Content-Length); chunked ones go through Beast.
std::string wire_bytes(const net::Response& res);

// The token resource of API.md (never the code).
std::string token_json(const TokenRow& row, Timestamp now);
// A user resource: username, groups, created_at, disabled, and live_tokens (her tokens neither
// expired nor deleted, as the caller counted them; inactive ones while she is disabled or out of
// api-tokens included, since they come back when she returns).
std::string user_json(const UserState& user, std::size_t live_tokens);
// {"events":[…]} from stored records: each as append_record_json shows it to readers (no code's
// ciphertext or lookup hash), with "token_description" when `descriptions` is given.
std::string events_json(const std::vector<Record>& records, std::string_view trailer = {},
                        TokenDescriptions* descriptions = nullptr);

}  // namespace tl
