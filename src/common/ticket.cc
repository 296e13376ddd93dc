#include "xfer/ticket.h"

#include <sys/random.h>

#include <cerrno>
#include <charconv>
#include <vector>

namespace xfer {

namespace {

constexpr std::string_view kPrefix = "xfer1";
constexpr std::string_view kPlainFlag = "plain";
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64UrlEncode(const uint8_t* data, size_t len) {
  std::string out;
  uint32_t bits = 0;
  int nbits = 0;
  for (size_t i = 0; i < len; ++i) {
    bits = (bits << 8) | data[i];
    nbits += 8;
    while (nbits >= 6) {
      nbits -= 6;
      out += kAlphabet[(bits >> nbits) & 63];
    }
  }
  if (nbits > 0) out += kAlphabet[(bits << (6 - nbits)) & 63];
  return out;
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Decodes exactly out.size() bytes; false on a bad character or length.
bool Base64UrlDecode(std::string_view text, uint8_t* out, size_t out_len) {
  if (text.size() != (out_len * 8 + 5) / 6) return false;
  uint32_t bits = 0;
  int nbits = 0;
  size_t written = 0;
  for (char c : text) {
    int v = Base64UrlValue(c);
    if (v < 0) return false;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      if (written == out_len) return false;
      out[written++] = static_cast<uint8_t>(bits >> nbits);
    }
  }
  // Leftover bits must be zero so that every secret has exactly one spelling.
  return written == out_len && (bits & ((1u << nbits) - 1)) == 0;
}

std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t colon = text.find(':', start);
    fields.push_back(text.substr(start, colon - start));
    if (colon == std::string_view::npos) return fields;
    start = colon + 1;
  }
}

Status Invalid(std::string_view what) {
  return Status(Code::kInvalidArgument, "invalid ticket: " + std::string(what));
}

}  // namespace

Status Ticket::Generate(uint16_t port, bool encrypt, Ticket* out) {
  Ticket ticket;
  ticket.port = port;
  ticket.encrypt = encrypt;
  size_t filled = 0;
  while (filled < ticket.secret.size()) {
    ssize_t n = getrandom(ticket.secret.data() + filled, ticket.secret.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "reading random bytes for the ticket secret");
    }
    filled += static_cast<size_t>(n);
  }
  *out = ticket;
  return Status::Ok();
}

Status Ticket::Parse(std::string_view text, Ticket* out) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  std::vector<std::string_view> fields = SplitFields(text);
  if (fields.size() < 3 || fields[0] != kPrefix) {
    return Invalid("expected xfer1:PORT:SECRET (is the sender older or newer than the receiver?)");
  }
  Ticket ticket;
  unsigned port = 0;
  auto [end, err] = std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), port);
  if (err != std::errc() || end != fields[1].data() + fields[1].size() || port == 0 ||
      port > 65535) {
    return Invalid("the port is not a number from 1 to 65535");
  }
  ticket.port = static_cast<uint16_t>(port);
  if (!Base64UrlDecode(fields[2], ticket.secret.data(), ticket.secret.size())) {
    return Invalid("the secret is not 32 bytes of base64url");
  }
  for (size_t i = 3; i < fields.size(); ++i) {
    if (fields[i] == kPlainFlag) {
      ticket.encrypt = false;
    } else {
      return Invalid("unknown flag field " + std::to_string(i + 1));
    }
  }
  *out = ticket;
  return Status::Ok();
}

std::string Ticket::Format() const {
  std::string text(kPrefix);
  text += ':' + std::to_string(port) + ':' + Base64UrlEncode(secret.data(), secret.size());
  if (!encrypt) text += ':' + std::string(kPlainFlag);
  return text;
}

}  // namespace xfer
