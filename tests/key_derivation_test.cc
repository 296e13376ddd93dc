#include "key_derivation.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace xfer {
namespace {

std::array<uint8_t, 32> CountingSecret(uint8_t start) {
  std::array<uint8_t, 32> secret;
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(start + i);
  return secret;
}

std::string Hex(const DerivedKey& key) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    out += kDigits[key.data()[i] >> 4];
    out += kDigits[key.data()[i] & 15];
  }
  return out;
}

TEST(KeyDerivationTest, SameSecretAndLabelGiveSameKey) {
  DerivedKey a, b;
  ASSERT_TRUE(DeriveKey(CountingSecret(7), kTlsPskLabel, &a).ok());
  ASSERT_TRUE(DeriveKey(CountingSecret(7), kTlsPskLabel, &b).ok());
  EXPECT_EQ(Hex(a), Hex(b));
}

TEST(KeyDerivationTest, LabelsGiveDifferentKeys) {
  DerivedKey psk, auth;
  ASSERT_TRUE(DeriveKey(CountingSecret(7), kTlsPskLabel, &psk).ok());
  ASSERT_TRUE(DeriveKey(CountingSecret(7), kAuthKeyLabel, &auth).ok());
  EXPECT_NE(Hex(psk), Hex(auth));
}

TEST(KeyDerivationTest, SecretsGiveDifferentKeys) {
  DerivedKey a, b;
  ASSERT_TRUE(DeriveKey(CountingSecret(7), kTlsPskLabel, &a).ok());
  ASSERT_TRUE(DeriveKey(CountingSecret(8), kTlsPskLabel, &b).ok());
  EXPECT_NE(Hex(a), Hex(b));
}

TEST(KeyDerivationTest, KeyIsNotTheSecret) {
  std::array<uint8_t, 32> secret = CountingSecret(0);
  DerivedKey key;
  ASSERT_TRUE(DeriveKey(secret, kAuthKeyLabel, &key).ok());
  EXPECT_NE(std::memcmp(key.data(), secret.data(), secret.size()), 0);
}

// Pins the derivation, which is part of the wire protocol. Reference values from
// `openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:00010203...1f -kdfopt info:LABEL
// HKDF`, and independently from RFC 5869 written out with Python's hmac module.
TEST(KeyDerivationTest, MatchesHkdfSha256ReferenceVectors) {
  DerivedKey psk, auth;
  ASSERT_TRUE(DeriveKey(CountingSecret(0), kTlsPskLabel, &psk).ok());
  ASSERT_TRUE(DeriveKey(CountingSecret(0), kAuthKeyLabel, &auth).ok());
  EXPECT_EQ(Hex(psk), "22ba62c2b6216db529a64e6e991a1dc01b3ffb5bd17476211716209640de5a15");
  EXPECT_EQ(Hex(auth), "7d490b64f185108cfb6fbe797528300e0033427d030cb08a31d080526eaf1860");
}

// Plain mode's record MAC keys: info = label || Nc || Ns (here the bytes 0x40..0x5f), reference
// values from RFC 5869 written out with Python's hmac module.
TEST(KeyDerivationTest, RecordMacKeysTakeTheNoncesAfterTheLabel) {
  std::array<uint8_t, 32> nonces;
  for (size_t i = 0; i < nonces.size(); ++i) nonces[i] = static_cast<uint8_t>(0x40 + i);
  DerivedKey to_server, to_client, without_nonces;
  ASSERT_TRUE(DeriveKey(CountingSecret(0), kClientMacLabel, &to_server, nonces).ok());
  ASSERT_TRUE(DeriveKey(CountingSecret(0), kServerMacLabel, &to_client, nonces).ok());
  ASSERT_TRUE(DeriveKey(CountingSecret(0), kClientMacLabel, &without_nonces).ok());
  EXPECT_EQ(Hex(to_server), "378dbc3252677cb6efdb8b05c8fef0f95450fab3cad10f4332ff09a618658197");
  EXPECT_EQ(Hex(to_client), "3c07fd1f4a6ce37f7c418fc95fda31bbc3f77b9f22ad24d2d688233514575688");
  EXPECT_NE(Hex(to_server), Hex(without_nonces));
}

}  // namespace
}  // namespace xfer
