// Microbenchmarks of the pipeline's stages, each on one thread:
//   cmake --build build --target stage_bench && build/stage_bench
// Data: 1 MiB chunks of database-like content (half text-like, half random bytes), what the
// sender feeds its workers.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <thread>

#include "archive_extractor.h"
#include "archive_source.h"
#include "channel.h"
#include "chunk_codec.h"
#include "content_digest.h"
#include "socket.h"

namespace xfer {
namespace {

constexpr size_t kChunk = 1 << 20;

Buffer MixedChunk() {
  Buffer b(kChunk);
  std::mt19937_64 rng(42);
  const char* words[] = {"INSERT ", "page ", "row ", "0000 ", "index ", "buffer ", "mariadb "};
  size_t i = 0;
  while (i < kChunk / 2) {
    const char* w = words[rng() % 7];
    size_t n = std::min(std::strlen(w), kChunk / 2 - i);
    std::memcpy(b.data() + i, w, n);
    i += n;
  }
  for (; i < kChunk; ++i) b.data()[i] = static_cast<uint8_t>(rng());
  b.set_size(kChunk);
  return b;
}

void BM_ChunkChecksum(benchmark::State& state) {
  Buffer chunk = MixedChunk();
  for (auto _ : state) benchmark::DoNotOptimize(ChunkChecksum(chunk.data(), chunk.size()));
  state.SetBytesProcessed(state.iterations() * kChunk);
}
BENCHMARK(BM_ChunkChecksum);

void BM_ContentDigest(benchmark::State& state) {
  Buffer chunk = MixedChunk();
  ContentDigest hasher;
  for (auto _ : state) {
    hasher.Reset();
    hasher.Update(chunk.data(), chunk.size());
    benchmark::DoNotOptimize(hasher.Finish());
  }
  state.SetBytesProcessed(state.iterations() * kChunk);
}
BENCHMARK(BM_ContentDigest);

void BM_Compress(benchmark::State& state) {
  Buffer chunk = MixedChunk();
  ChunkCompressor compressor;
  Buffer out(kChunk);
  bool compressed = false;
  for (auto _ : state) {
    Status s = compressor.Compress(chunk, static_cast<int>(state.range(0)), &out, &compressed);
    benchmark::DoNotOptimize(s.ok());
  }
  state.SetBytesProcessed(state.iterations() * kChunk);
  state.counters["ratio"] = compressed ? static_cast<double>(kChunk) / out.size() : 1.0;
}
BENCHMARK(BM_Compress)->Arg(-5)->Arg(-1)->Arg(1)->Arg(3)->Arg(6);

void BM_Decompress(benchmark::State& state) {
  Buffer chunk = MixedChunk();
  ChunkCompressor compressor;
  Buffer packed(kChunk);
  bool compressed = false;
  if (!compressor.Compress(chunk, 1, &packed, &compressed).ok() || !compressed) {
    state.SkipWithError("chunk did not compress");
    return;
  }
  ChunkDecompressor decompressor;
  Buffer out(kChunk);
  for (auto _ : state) {
    Status s = decompressor.Decompress(packed.data(), packed.size(), kChunk, &out);
    benchmark::DoNotOptimize(s.ok());
  }
  state.SetBytesProcessed(state.iterations() * kChunk);
}
BENCHMARK(BM_Decompress);

// One direction of a channel over loopback: the writer on this thread, a reader thread draining.
void BM_Channel(benchmark::State& state) {
  bool encrypt = state.range(0) != 0;
  Socket listener;
  uint16_t port = 0;
  if (!ListenTcp("127.0.0.1", 0, &listener, &port).ok()) return state.SkipWithError("listen");
  ChannelParams params;
  params.encrypt = encrypt;
  std::unique_ptr<Channel> server;
  std::thread accept([&] {
    Socket s;
    std::string peer;
    Deadline d = Deadline::After(std::chrono::seconds(10));
    if (AcceptTcp(listener, d, nullptr, &s, &peer).ok()) {
      Status ignored = OpenServerChannel(std::move(s), params, d, nullptr, &server);
      (void)ignored;
    }
  });
  Socket socket;
  std::unique_ptr<Channel> client;
  Deadline deadline = Deadline::After(std::chrono::seconds(10));
  bool ok = ConnectTcp("127.0.0.1", port, deadline, nullptr, &socket).ok() &&
            OpenClientChannel(std::move(socket), params, deadline, nullptr, &client).ok();
  accept.join();
  if (!ok || !server) return state.SkipWithError("handshake");
  std::thread drain([&] {
    Buffer sink(kChunk);
    while (
        server->ReadExact(sink.data(), kChunk, Deadline::After(std::chrono::seconds(10)), nullptr)
            .ok()) {
    }
  });
  Buffer chunk = MixedChunk();
  for (auto _ : state) {
    Status s =
        client->WriteAll(chunk.data(), kChunk, Deadline::After(std::chrono::seconds(10)), nullptr);
    if (!s.ok()) state.SkipWithError(s.message().c_str());
  }
  state.SetBytesProcessed(state.iterations() * kChunk);
  client.reset();  // ends the stream: the drain thread's read fails and it returns
  drain.join();
}
BENCHMARK(BM_Channel)->Arg(1)->Arg(0)->ArgNames({"encrypt"})->UseRealTime();

}  // namespace
}  // namespace xfer

BENCHMARK_MAIN();
