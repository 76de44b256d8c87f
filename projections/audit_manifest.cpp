#include "projections/audit_manifest.hpp"

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "eventstore/signed_checkpoints.hpp"

namespace tl {

Result<Head> export_head(const EventLog& store, std::optional<std::uint64_t> head_seq) {
  const Head head = store.head();
  if (!head_seq || *head_seq == head.seq) return head;
  if (*head_seq > head.seq) {
    return Error::invalid_field("head_seq: " + std::to_string(*head_seq) + " is past the log's head (seq " +
                                std::to_string(head.seq) + ").");
  }
  if (*head_seq == 0) return Head{};
  auto record = store.read(*head_seq);
  if (!record) return std::move(record).error();
  if (!*record) return Error::internal("the log has no record at seq " + std::to_string(*head_seq));
  return Head{*head_seq, (*record)->hash};
}

Result<std::string> export_manifest(const EventLog& store, const AuditIndex& index, AuditFilter filter,
                                    const Head& head, const std::vector<std::pair<std::string, std::string>>& given,
                                    Timestamp generated_at) {
  filter.head_seq = head.seq;
  std::uint64_t count = 0, first = 0, last = 0;
  auto scanned = index.scan(filter, [&](const Record& r) {
    if (count++ == 0) first = r.seq;
    last = r.seq;
    return true;
  });
  if (!scanned) return std::move(scanned).error();
  auto checkpoints = list_checkpoints(store);
  if (!checkpoints) return std::move(checkpoints).error();
  // The newest the export can be checked against: a later one names a seq the export lacks.
  const SignedCheckpoint* checkpoint = nullptr;
  for (const auto& c : *checkpoints) {
    if (c.seq <= head.seq) checkpoint = &c;
  }

  JsonWriter w;
  w.begin_object().key("manifest").value(kExportManifestName).key("version").value(kExportManifestVersion);
  w.key("generated_at").value(format_rfc3339(generated_at)).key("filters").begin_object();
  for (const auto& [name, value] : given) w.key(name).value(value);
  w.end_object();
  w.key("head").begin_object().key("seq").value(head.seq).key("hash").value(head.hash).end_object();
  w.key("count").value(count);
  for (auto [name, seq] : {std::pair{"first_seq", first}, std::pair{"last_seq", last}}) {
    w.key(name);
    if (count == 0)
      w.null();
    else
      w.value(seq);
  }
  w.key("checkpoint");
  if (checkpoint == nullptr)
    w.null();
  else
    w.raw(checkpoint->raw);
  w.end_object();
  return std::move(w).str();
}

}  // namespace tl
