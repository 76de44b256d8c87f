#include "eventstore/imported_records.hpp"

#include "eventstore/chain_link.hpp"

namespace tl {

Result<std::vector<Record>> check_imported(std::span<const std::string> raws, const Head& head) {
  std::vector<Record> records;
  records.reserve(raws.size());
  ChainLink link{head.seq, head.hash};
  for (const std::string& raw : raws) {
    CheckedRecord checked = check_record_bytes(raw);
    const std::string at = "record " + std::to_string(link.seq + 1);
    if (!checked.record) return Error::invalid_field(at + ": " + checked.problem);
    if (checked.record->seq != link.seq + 1) {
      return Error::invalid_field(at + ": the record names seq " + std::to_string(checked.record->seq));
    }
    if (std::string problem = link.problem(*checked.record); !problem.empty()) {
      return Error::invalid_field(at + ": " + problem);
    }
    link = {checked.record->seq, checked.record->hash};
    records.push_back(std::move(*checked.record));
  }
  return records;
}

}  // namespace tl
