#include "key_derivation.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>
#include <string>

namespace xfer {

namespace {

struct KdfDeleter {
  void operator()(EVP_KDF* kdf) const { EVP_KDF_free(kdf); }
  void operator()(EVP_KDF_CTX* ctx) const { EVP_KDF_CTX_free(ctx); }
};

}  // namespace

DerivedKey::~DerivedKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Status DeriveKey(std::span<const uint8_t> secret, std::string_view label, DerivedKey* out,
                 std::span<const uint8_t> context) {
  // Fetched per call rather than cached: libxfer keeps no process-global state of its own.
  std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (kdf == nullptr) {
    ERR_clear_error();
    return Status(Code::kIoError, "deriving keys: OpenSSL has no HKDF");
  }
  std::unique_ptr<EVP_KDF_CTX, KdfDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (ctx == nullptr) {
    ERR_clear_error();
    return Status(Code::kIoError, "deriving keys: out of memory");
  }
  std::string info(label);
  info.append(reinterpret_cast<const char*>(context.data()), context.size());
  // OSSL_PARAM wants non-const pointers; OpenSSL only reads these.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(secret.data()),
                                        secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_KDF_derive(ctx.get(), out->data(), out->size(), params) != 1) {
    ERR_clear_error();
    return Status(Code::kIoError, "deriving keys: HKDF failed");
  }
  return Status::Ok();
}

}  // namespace xfer
