// Writes the seed corpora in fuzz/corpus/TARGET/ from the real encoders (and the real client
// side of each handshake), plus hand-made edge cases. Run after a wire format change:
//   xfer_fuzz_make_corpus fuzz/corpus
// The output is committed; the fuzzers never write there (scripts/fuzz.sh gives them a scratch
// directory).
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "buffer.h"
#include "channel.h"
#include "chunk_codec.h"
#include "wire_format.h"
#include "xfer/ticket.h"

namespace fs = std::filesystem;

namespace {

fs::path g_root;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(g_root / target);
  std::ofstream out(g_root / target / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s/%s\n", target.c_str(), name.c_str());
    std::exit(1);
  }
}

std::string Header(const xfer::FrameHeader& h) {
  uint8_t encoded[xfer::kFrameHeaderSize];
  xfer::EncodeFrameHeader(h, encoded);
  return std::string(reinterpret_cast<const char*>(encoded), sizeof encoded);
}

std::string U32(uint32_t v) {
  std::string out;
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

void Tickets() {
  xfer::Ticket t;
  t.port = 40123;
  for (size_t i = 0; i < t.secret.size(); ++i) t.secret[i] = static_cast<uint8_t>(i * 7 + 1);
  Write("ticket", "encrypted", t.Format() + "\n");
  t.encrypt = false;
  Write("ticket", "plain", t.Format() + "\r\n");
  t.port = 65535;
  t.secret.fill(0xff);
  Write("ticket", "max_port", t.Format());
  Write("ticket", "unknown_flag", t.Format() + ":turbo");
  Write("ticket", "port_zero", "xfer1:0:" + t.Format().substr(12));
  Write("ticket", "empty", "");
}

void FrameHeaders() {
  xfer::FrameHeader h;
  h.type = xfer::FrameType::kData;
  h.flags = xfer::kFlagZstd;
  h.payload_len = 1000;
  h.raw_len = 1 << 20;
  h.seq = 3;
  h.checksum = 0x0123456789abcdefULL;
  Write("frame_header", "data_zstd", Header(h));
  h.flags = 0;
  h.payload_len = h.raw_len = xfer::kMaxChunkSize;
  Write("frame_header", "data_stored_max", Header(h));
  h.type = xfer::FrameType::kManifest;
  h.payload_len = h.raw_len = 200;
  Write("frame_header", "manifest", Header(h));
  for (xfer::FrameType type :
       {xfer::FrameType::kHello, xfer::FrameType::kAccept, xfer::FrameType::kError,
        xfer::FrameType::kTrailer, xfer::FrameType::kResult}) {
    xfer::FrameHeader c;
    c.type = type;
    c.payload_len = type == xfer::FrameType::kAccept ? 0 : 40;
    Write("frame_header", "control_" + std::to_string(static_cast<int>(type)), Header(c));
  }
}

void Hellos() {
  xfer::Hello h;
  h.chunk_size = 1 << 20;
  h.entries = 12;
  h.files = 10;
  h.content_bytes = 123456;
  h.allocated_bytes = 131072;
  h.top_names = {"datadir"};
  Write("hello", "one_name", xfer::EncodeHello(h));
  h.top_names = {"a", "b.txt", "..x", "name with spaces", "\xc3\xa9t\xc3\xa9"};
  Write("hello", "several_names", xfer::EncodeHello(h));
  h.top_names = {"a", "a"};
  Write("hello", "duplicate_names", xfer::EncodeHello(h));
  h.top_names = {".."};
  Write("hello", "dotdot", xfer::EncodeHello(h));
  h.top_names = {"x"};
  h.version = 99;
  Write("hello", "other_version", xfer::EncodeHello(h));
}

void Trailers() {
  xfer::Trailer t;
  Write("trailer", "zero", xfer::EncodeTrailer(t));
  t.stream_bytes = 10240;
  t.data_frames = 1;
  t.manifest_records = 2;
  t.stream_digest = {0x1111222233334444ULL, 0x5555666677778888ULL};
  Write("trailer", "typical", xfer::EncodeTrailer(t));
  Write("trailer", "one_byte_long", xfer::EncodeTrailer(t) + "x");
}

void Manifests() {
  std::string records;
  xfer::AppendManifestRecord({"datadir/ibdata1", 12345, {1, 2}}, &records);
  xfer::AppendManifestRecord({"datadir/empty", 0, {3, 4}}, &records);
  xfer::AppendManifestRecord({"", 0, {0, 0}}, &records);
  // The first two bytes choose how the target splits the rest into payloads.
  Write("manifest", "three_records_whole", std::string("\xff\xff", 2) + records);
  Write("manifest", "three_records_split_1_7", std::string("\x00\x06", 2) + records);
  Write("manifest", "truncated_record", std::string("\x03\x05", 2) + records.substr(0, 30));
  Write("manifest", "path_too_long", std::string("\x10\x10", 2) + U32((1 << 20) + 1) + "abc");
}

void DataChunks() {
  xfer::ChunkCompressor compressor;
  std::string text;
  for (int i = 0; i < 200; ++i) text += "file content, line " + std::to_string(i) + "\n";
  xfer::Buffer raw(text.size());
  std::memcpy(raw.data(), text.data(), text.size());
  raw.set_size(text.size());
  xfer::Buffer packed;
  bool compressed = false;
  if (!compressor.Compress(raw, 3, &packed, &compressed).ok() || !compressed) std::exit(1);
  std::string frame(reinterpret_cast<const char*>(packed.data()), packed.size());
  // Input layout: u32 claimed raw length, flags byte, payload (fuzz_data_chunk.cc).
  Write("data_chunk", "zstd", U32(static_cast<uint32_t>(text.size())) + "\x01" + frame);
  Write("data_chunk", "zstd_claims_less", U32(100) + "\x01" + frame);
  Write("data_chunk", "zstd_claims_more",
        U32(static_cast<uint32_t>(text.size()) + 1) + "\x01" + frame);
  Write("data_chunk", "stored", U32(0) + std::string("\x00", 1) + "raw bytes");
  Write("data_chunk", "garbage", U32(64) + "\x01" + std::string(40, '\xa5'));
  // 1 MiB of zeros in a few bytes: the bomb shape, announced correctly and announced short.
  xfer::Buffer zeros(1 << 20);
  std::memset(zeros.data(), 0, zeros.capacity());
  zeros.set_size(zeros.capacity());
  if (!compressor.Compress(zeros, 19, &packed, &compressed).ok() || !compressed) std::exit(1);
  std::string bomb(reinterpret_cast<const char*>(packed.data()), packed.size());
  Write("data_chunk", "zeros_1mib", U32(1 << 20) + "\x01" + bomb);
  Write("data_chunk", "zeros_1mib_claims_4k", U32(4096) + "\x01" + bomb);
}

// What a real client sends first: runs its side of the handshake against nobody until a short
// deadline passes, then collects the bytes it wrote.
std::string ClientFirstFlight(bool encrypt) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) std::exit(1);
  xfer::Socket server(fds[1]);
  xfer::ChannelParams params;
  params.secret.fill(0x5a);  // the secret server_handshake.h uses
  params.encrypt = encrypt;
  std::unique_ptr<xfer::Channel> channel;
  xfer::Status ignored = xfer::OpenClientChannel(
      xfer::Socket(fds[0]), params, xfer::Deadline::After(std::chrono::milliseconds(200)), nullptr,
      &channel);
  (void)ignored;  // times out waiting for the server, as intended
  std::string bytes;
  char buf[4096];
  ssize_t n;
  while ((n = recv(server.fd(), buf, sizeof buf, 0)) > 0) bytes.append(buf, static_cast<size_t>(n));
  return bytes;
}

void Handshakes() {
  std::string plain = ClientFirstFlight(false);
  Write("plain_handshake", "client_hello", plain);
  Write("plain_handshake", "client_hello_and_proof", plain + std::string(32, '\x42'));
  Write("plain_handshake", "tls_client_hello", ClientFirstFlight(true));
  Write("plain_handshake", "magic_only", "XFERAUT2");
  std::string tls = ClientFirstFlight(true);
  Write("tls_handshake", "client_hello", tls);
  Write("tls_handshake", "client_hello_and_garbage",
        tls + std::string("\x14\x03\x03\x00\x01\x01", 6));
  Write("tls_handshake", "plain_client_hello", plain);
  Write("tls_handshake", "http", "GET / HTTP/1.1\r\n\r\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  Tickets();
  FrameHeaders();
  Hellos();
  Trailers();
  Manifests();
  DataChunks();
  Handshakes();
  return 0;
}
