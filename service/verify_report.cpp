#include "service/verify_report.hpp"

#include "common/json_writer.hpp"

namespace tl {

std::string integrity_report_json(const IntegrityReport& r, std::string_view public_key, bool indexes_checked,
                                  const std::vector<std::pair<std::string_view, std::string_view>>& extra) {
  JsonWriter w;
  w.begin_object().key("ok").value(r.ok).key("events").value(r.chain.events);
  w.key("head").begin_object().key("seq").value(r.chain.head.seq).key("hash").value(r.chain.head.hash).end_object();
  if (!r.ok) w.key("first_bad_seq").value(r.first_bad_seq).key("kind").value(r.kind).key("problem").value(r.problem);
  const bool checkpoints_ok = r.kind != "checkpoint";
  w.key("checkpoints").begin_object().key("ok").value(checkpoints_ok).key("count").value(r.checkpoints);
  w.key("public_key").value(public_key);
  if (!checkpoints_ok) w.key("first_bad_seq").value(r.first_bad_seq).key("problem").value(r.problem);
  w.end_object();
  w.key("witnessed").value(r.witnessed);
  w.key("indexes").begin_object().key("checked").value(indexes_checked && r.ok);
  w.key("streams").value(r.stream_entries).key("audit").value(r.audit_entries).end_object();
  for (const auto& [name, value] : extra) w.key(name).value(value);
  return std::move(w.end_object()).str();
}

std::string checkpoints_json(const std::vector<SignedCheckpoint>& checkpoints, std::string_view public_key) {
  JsonWriter w;
  w.begin_object().key("public_key").value(public_key).key("checkpoints").begin_array();
  for (const auto& c : checkpoints) w.raw(c.raw);
  return std::move(w.end_array().end_object()).str();
}

}  // namespace tl
