// The audit trail as CSV, the one writer of GET /api/v1/audit/export?format=csv and
// `tokenledger-admin audit --format csv`: a header row, then one row per record, each line ended
// by CRLF (RFC 4180). A field is quoted when it holds a comma, a quote, CR or LF, or starts with
// = + - @ (a spreadsheet formula); such a formula gets a ' after the opening quote so that a
// spreadsheet shows it instead of running it.
//
// After the record's envelope come its data columns (issue 18), so that a spreadsheet shows what
// changed: the description a token was created with or changed to, its timeout in days and the
// expiry that follows (RFC 3339; for a timeout change, counted from the token's creation), a
// deletion's reason, a user's groups (space-separated), and the id of the token the actor used
// (bearer calls). Empty where the event has no such field.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "eventstore/record.hpp"

namespace tl {

class AuditIndex;

// The header row without its CRLF. Columns are only ever added at the end, so old readers keep working.
inline constexpr std::string_view kAuditCsvHeader =
    "seq,at,type,stream,version,actor,via,ip,user_agent,request_id,token_id,owner,hash,client_request_id,peer,"
    "description,timeout_days,expires_at,reason,groups,actor_token_id,details";

// UTF-8's byte order mark: what `bom=1` puts before the header, so that spreadsheets that guess a
// legacy code page (Excel, LibreOffice) read "Müller" as written.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// What an access event (domain/events.hpp, UserSignedIn … ServerStopped) holds, as space-separated
// name=value words ("username=carol reason=idle", "POST /api/v1/tokens/{}/reveal 404 not_found
// target=… count=30"), for the CSV's `details` column and the admin tool's table; "" for others,
// whose data the other columns carry.
std::string access_event_details(const Event& event);

// Appends the header row and its CRLF to `out`.
void append_audit_csv_header(std::string& out);

// Writes the rows of one export. A timeout change's expiry needs its token's creation time: taken
// from a TokenCreated row written before, else asked of `created_at` (nullopt: left empty).
class AuditCsvRows {
 public:
  using CreatedAt = std::function<std::optional<Timestamp>(const std::string& token_id)>;
  explicit AuditCsvRows(CreatedAt created_at = {}) : created_at_(std::move(created_at)) {}
  // Asking `index` for the token's TokenCreated (one read by its token index).
  explicit AuditCsvRows(const AuditIndex& index);

  // Appends `r` as one row, in the header's columns, with its CRLF, to `out`.
  void append(std::string& out, const Record& r);

 private:
  std::optional<Timestamp> creation_of(const std::string& token_id);

  CreatedAt created_at_;
  std::unordered_map<std::string, Timestamp> created_;  // bounded: cleared when large
};

}  // namespace tl
