#include "eventstore/chained_record.hpp"

namespace tl {

Result<Record> chained_record(const AppendRequest& request, Event event, const Head& head, std::uint64_t version,
                              Timestamp at, RecordDecoder& decoder) {
  Record r;
  r.seq = head.seq + 1;
  r.at = at;
  r.stream = request.stream;
  r.version = version;
  r.actor = request.actor;
  r.source = request.source;
  if (is_token_event(event)) {
    r.token_id = request.stream;
    r.owner = request.owner;
  }
  r.event = std::move(event);
  r.prev_hash = head.hash;
  encode_record(r);
  if (Status readable = check_round_trip(r, decoder); !readable) return readable.error();
  return r;
}

}  // namespace tl
