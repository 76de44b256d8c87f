#include "service/verify_report.hpp"

#include "common/hex.hpp"
#include "common/json_writer.hpp"
#include "common/time_format.hpp"

namespace tl {

namespace {

// Every member of integrity_report_json but the extras and the closing brace.
void write_report(JsonWriter& w, const IntegrityReport& r, std::string_view public_key, bool indexes_checked) {
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
}

}  // namespace

std::string integrity_report_json(const IntegrityReport& r, std::string_view public_key, bool indexes_checked,
                                  const std::vector<std::pair<std::string_view, std::string_view>>& extra) {
  JsonWriter w;
  write_report(w, r, public_key, indexes_checked);
  for (const auto& [name, value] : extra) w.key(name).value(value);
  return std::move(w.end_object()).str();
}

std::string verify_answer_json(const IntegrityReport& r, std::string_view public_key, bool indexes_checked,
                               const ScrubBasis& scrub, const std::optional<TailWalk>& walked) {
  JsonWriter w;
  write_report(w, r, public_key, indexes_checked);
  if (scrub.completed) {
    w.key("scrub").begin_object().key("completed_at").value(format_rfc3339(scrub.completed_at));
    w.key("head_seq").value(scrub.head_seq).key("ok").value(scrub.ok).key("source").value(scrub.source).end_object();
  } else {
    w.key("scrub").value("pending");
  }
  if (walked) {
    w.key("walked").begin_object().key("from_seq").value(walked->from_seq).key("events").value(walked->events);
    w.end_object();
  }
  return std::move(w.end_object()).str();
}

std::string checkpoints_json(const std::vector<SignedCheckpoint>& checkpoints, std::string_view public_key,
                             const std::vector<TreeHead>* tree_heads) {
  JsonWriter w;
  w.begin_object().key("public_key").value(public_key).key("checkpoints").begin_array();
  for (const auto& c : checkpoints) w.raw(c.raw);
  w.end_array();
  if (tree_heads != nullptr) {
    w.key("tree_heads").begin_array();
    for (const TreeHead& t : *tree_heads) {
      w.begin_object()
          .key("tree_size")
          .value(t.size)
          .key("root_hash")
          .value(to_hex(t.root.data(), t.root.size()))
          .key("checkpoint")
          .value(t.note)
          .end_object();
    }
    w.end_array();
  }
  return std::move(w.end_object()).str();
}

}  // namespace tl
