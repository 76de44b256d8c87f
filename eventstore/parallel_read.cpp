// read_range_parallel: the fold's reader. Profiled on the fold (callgrind, 30 k events), decoding
// is ~70% of the instructions and RocksDB's iteration ~12%: one thread cannot fold faster than
// it decodes. So workers each take every n-th chunk of seqs, read and decode it with their own
// iterator and decoder into a ring of chunks, and the calling thread visits the chunks in order:
// the visitor still sees every record once, in seq order, on the calling thread.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "eventstore/event_store_impl.hpp"

namespace tl {
namespace {

constexpr std::uint64_t kChunk = 1024;

struct Chunk {
  std::vector<Record> records;  // reused: their buffers survive from one chunk to the next
  std::size_t count = 0;
  Status status;
  bool ready = false;
};

}  // namespace

Status EventStore::read_range_parallel(std::uint64_t from, std::uint64_t to,
                                       const std::function<bool(const Record&)>& visit, RecordFields fields,
                                       unsigned threads) const {
  const std::uint64_t last = std::min(to, head().seq);
  if (threads <= 1 || last < from || last - from < 4 * kChunk) return read_range(from, to, visit, fields);

  const std::uint64_t chunks = (last - from) / kChunk + 1;
  const std::uint64_t slots = 2 * std::uint64_t{threads};
  std::vector<Chunk> ring(slots);
  std::mutex mutex;
  std::condition_variable changed;
  std::uint64_t consumed = 0;  // chunks the visitor is done with
  bool stop = false;

  auto work = [&](unsigned worker) {
    rocksdb::ReadOptions options;
    options.readahead_size = 2 << 20;
    options.adaptive_readahead = true;
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(options, impl_->cf("events")));
    RecordDecoder decoder;
    for (std::uint64_t k = worker; k < chunks; k += threads) {
      Chunk& chunk = ring[k % slots];
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return stop || k < consumed + slots; });
        if (stop) return;
      }
      const std::uint64_t first = from + k * kChunk;
      const std::uint64_t end = std::min(last, first + kChunk - 1);
      if (chunk.records.size() < kChunk) chunk.records.resize(kChunk);
      std::size_t n = 0;
      Status status;
      for (it->Seek(encode_be64(first)); it->Valid() && n < kChunk; it->Next()) {
        if (decode_be64(it->key().ToStringView()) > end) break;
        if (status = decoder.decode(it->value().ToStringView(), chunk.records[n], fields); !status) break;
        ++n;
      }
      if (status && !it->status().ok())
        status = Error::unavailable("The event log cannot be read (" + it->status().ToString() + ").");
      std::lock_guard lock(mutex);
      chunk.count = n;
      chunk.status = std::move(status);
      chunk.ready = true;
      changed.notify_all();
    }
  };

  std::vector<std::thread> workers;
  for (unsigned w = 0; w < threads; ++w) workers.emplace_back(work, w);
  Status result;
  bool more = true;
  for (std::uint64_t k = 0; k < chunks && more && result; ++k) {
    Chunk& chunk = ring[k % slots];
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return chunk.ready; });
    }
    result = std::move(chunk.status);
    for (std::size_t i = 0; i < chunk.count && more && result; ++i) more = visit(chunk.records[i]);
    std::lock_guard lock(mutex);
    chunk.ready = false;
    chunk.status = {};
    consumed = k + 1;
    changed.notify_all();
  }
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  changed.notify_all();
  for (auto& w : workers) w.join();
  if (!result || !more || last >= to) return result;
  // Whatever was appended after the head was read (nothing, at start-up and in a rebuild).
  return read_range(last + 1, to, visit, fields);
}

}  // namespace tl
