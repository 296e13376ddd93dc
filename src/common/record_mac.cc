#include "record_mac.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <climits>

namespace xfer {

struct RecordMac::Context {
  struct Deleter {
    void operator()(EVP_CIPHER* cipher) const { EVP_CIPHER_free(cipher); }
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_CIPHER, Deleter> cipher;
  std::unique_ptr<EVP_CIPHER_CTX, Deleter> ctx;
};

namespace {

Status MacError(const char* what) {
  ERR_clear_error();
  return Status(Code::kIoError, std::string("record MAC: ") + what);
}

}  // namespace

RecordMac::RecordMac(std::unique_ptr<Context> context) : context_(std::move(context)) {}
RecordMac::~RecordMac() = default;

Status RecordMac::Create(const DerivedKey& key, std::unique_ptr<RecordMac>* out) {
  auto context = std::make_unique<Context>();
  context->cipher.reset(EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr));
  if (context->cipher == nullptr) return MacError("OpenSSL has no ChaCha20-Poly1305");
  context->ctx.reset(EVP_CIPHER_CTX_new());
  if (context->ctx == nullptr || EVP_EncryptInit_ex2(context->ctx.get(), context->cipher.get(),
                                                     key.data(), nullptr, nullptr) != 1) {
    return MacError("setting the key failed");
  }
  out->reset(new RecordMac(std::move(context)));
  return Status::Ok();
}

Status RecordMac::Compute(uint64_t seq, std::span<const uint8_t> head,
                          std::span<const uint8_t> body, Tag tag) {
  EVP_CIPHER_CTX* ctx = context_->ctx.get();
  uint8_t nonce[12] = {};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(seq >> (8 * i));
  int len = 0;
  uint8_t no_output[kTagSize];  // the plaintext is empty: Final writes nothing here
  // Records are at most a few MiB (plain_channel.cc), well within an int.
  if (head.size() + body.size() > INT_MAX ||
      EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce, nullptr) != 1 ||
      (!body.empty() &&
       EVP_EncryptUpdate(ctx, nullptr, &len, body.data(), static_cast<int>(body.size())) != 1) ||
      EVP_EncryptUpdate(ctx, nullptr, &len, head.data(), static_cast<int>(head.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx, no_output, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagSize, tag) != 1) {
    return MacError("computing a tag failed");
  }
  return Status::Ok();
}

bool RecordMac::Verify(uint64_t seq, std::span<const uint8_t> head, std::span<const uint8_t> body,
                       const Tag tag) {
  Tag expected;
  return Compute(seq, head, body, expected).ok() && CRYPTO_memcmp(expected, tag, kTagSize) == 0;
}

}  // namespace xfer
