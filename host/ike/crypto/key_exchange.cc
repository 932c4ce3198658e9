// OpenSSL 3 EVP implementations of KeyExchange: ECP (RFC 5903), X25519 (RFC 8031), MODP (RFC 3526).
//
// OpenSSL's named groups are used throughout ("P-256", "P-384", "X25519", "modp_2048", "modp_3072").
// The MODP named groups carry q = (p-1)/2, so EVP_PKEY_public_check also checks subgroup membership
// (y^q = 1 mod p); the tests pin OpenSSL's primes to the RFC 3526 text.
#include "host/ike/crypto/key_exchange.h"

#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <array>
#include <string>
#include <vector>

#include "host/ike/crypto/ossl_util.h"

namespace ipsec::ike {
namespace {

using internal::BnCtxPtr;
using internal::BnPtr;
using internal::OsslFailure;
using internal::ParamBldPtr;
using internal::ParamPtr;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;
using internal::SecretBnPtr;

const unsigned char* U(const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); }
unsigned char* U(std::byte* p) { return reinterpret_cast<unsigned char*>(p); }

Status BadPeer(std::string what) { return OsslFailure(StatusCode::kInvalidArgument, "KE: " + std::move(what)); }
Status Internal(std::string what) { return OsslFailure(StatusCode::kInternal, "KE: " + std::move(what)); }

// Builds a key from OSSL_PARAMs with `selection` (EVP_PKEY_KEYPAIR or EVP_PKEY_PUBLIC_KEY).
PkeyPtr FromData(const char* type, OSSL_PARAM_BLD* bld, int selection) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &pkey, selection, params.get()) != 1) return nullptr;
  return PkeyPtr(pkey);
}

bool PublicCheck(EVP_PKEY* pkey) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  return ctx && EVP_PKEY_public_check(ctx.get()) == 1;
}

// EVP_PKEY_derive of `ours` with `peer`; `pad` asks DH for an output padded to the prime length.
// A failure here is the peer's fault once the peer key has been validated (X25519: all-zero
// output), so it is reported as kInvalidArgument.
StatusOr<SecureBytes> Derive(EVP_PKEY* ours, EVP_PKEY* peer, bool pad, size_t expected_len) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, ours, nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return Internal("derive init failed");
  if (pad && EVP_PKEY_CTX_set_dh_pad(ctx.get(), 1) != 1) return Internal("cannot set DH padding");
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, 1) != 1) return BadPeer("peer public value rejected");
  size_t len = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1 || len != expected_len) return Internal("derive size");
  SecureBytes secret(len);
  if (EVP_PKEY_derive(ctx.get(), U(secret.mutable_span().data()), &len) != 1) {
    return BadPeer("key agreement failed (invalid peer value)");
  }
  if (len != expected_len) return Internal("derive produced a short secret");
  return secret;
}

// ---------------------------------------------------------------------------------------------
// ECP groups 19 and 20 (RFC 5903).

struct EcGroupInfo {
  DhGroup group;
  const char* name;  // OpenSSL group name
  int nid;
  size_t field_len;
};
constexpr EcGroupInfo kP256{DhGroup::kEcp256, "P-256", NID_X9_62_prime256v1, 32};
constexpr EcGroupInfo kP384{DhGroup::kEcp384, "P-384", NID_secp384r1, 48};

class EcpKeyExchange final : public KeyExchange {
 public:
  static StatusOr<std::unique_ptr<KeyExchange>> Make(const EcGroupInfo& info, PkeyPtr pkey) {
    // RFC 5903 §7: x || y without the SEC1 point-format octet.
    std::vector<std::byte> sec1(1 + 2 * info.field_len);
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, U(sec1.data()), sec1.size(), &len) != 1 ||
        len != sec1.size() || sec1[0] != std::byte{0x04}) {
      return Internal("cannot export the ECP public point");
    }
    sec1.erase(sec1.begin());
    return std::unique_ptr<KeyExchange>(new EcpKeyExchange(info, std::move(pkey), std::move(sec1)));
  }

  DhGroup group() const override { return info_.group; }
  Bytes public_value() const override { return public_; }

  StatusOr<SecureBytes> ComputeSharedSecret(Bytes peer_public) const override {
    if (peer_public.size() != 2 * info_.field_len) {
      return BadPeer("ECP public value is " + std::to_string(peer_public.size()) + " bytes, expected " +
                     std::to_string(2 * info_.field_len));
    }
    std::vector<std::byte> sec1(1 + peer_public.size());
    sec1[0] = std::byte{0x04};
    std::copy(peer_public.begin(), peer_public.end(), sec1.begin() + 1);
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, info_.name, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, sec1.data(), sec1.size()) != 1) {
      return Internal("param build failed");
    }
    // Decoding the point rejects coordinates >= p and points off the curve; public_check repeats
    // the on-curve test and rejects the point at infinity.
    PkeyPtr peer = FromData("EC", bld.get(), EVP_PKEY_PUBLIC_KEY);
    if (!peer) return BadPeer("ECP public value is not a point on the curve");
    if (!PublicCheck(peer.get())) return BadPeer("ECP public value failed validation");
    // RFC 5903 §7: the shared secret is the x coordinate of the shared point.
    return Derive(pkey_.get(), peer.get(), /*pad=*/false, info_.field_len);
  }

 private:
  EcpKeyExchange(const EcGroupInfo& info, PkeyPtr pkey, std::vector<std::byte> pub)
      : info_(info), pkey_(std::move(pkey)), public_(std::move(pub)) {}

  const EcGroupInfo& info_;
  PkeyPtr pkey_;
  std::vector<std::byte> public_;
};

StatusOr<std::unique_ptr<KeyExchange>> GenerateEcp(const EcGroupInfo& info) {
  PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", info.name));
  if (!pkey) return Internal("ECP key generation failed");
  return EcpKeyExchange::Make(info, std::move(pkey));
}

StatusOr<std::unique_ptr<KeyExchange>> ImportEcp(const EcGroupInfo& info, Bytes private_key) {
  using EcGroupPtr = std::unique_ptr<EC_GROUP, internal::OsslDeleter<EC_GROUP_free>>;
  using EcPointPtr = std::unique_ptr<EC_POINT, internal::OsslDeleter<EC_POINT_free>>;
  EcGroupPtr grp(EC_GROUP_new_by_curve_name(info.nid));
  BnCtxPtr bn_ctx(BN_CTX_new());
  SecretBnPtr priv(BN_bin2bn(U(private_key.data()), static_cast<int>(private_key.size()), nullptr));
  if (!grp || !bn_ctx || !priv) return Internal("allocation failed");
  if (private_key.size() > info.field_len || BN_is_zero(priv.get()) ||
      BN_cmp(priv.get(), EC_GROUP_get0_order(grp.get())) >= 0) {
    return OsslFailure(StatusCode::kInvalidArgument, "KE: private scalar out of range");
  }
  EcPointPtr pub(EC_POINT_new(grp.get()));
  std::vector<unsigned char> sec1(1 + 2 * info.field_len);
  if (!pub || EC_POINT_mul(grp.get(), pub.get(), priv.get(), nullptr, nullptr, bn_ctx.get()) != 1 ||
      EC_POINT_point2oct(grp.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED, sec1.data(), sec1.size(),
                         bn_ctx.get()) != sec1.size()) {
    return Internal("ECP public point computation failed");
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, info.name, 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, sec1.data(), sec1.size()) != 1) {
    return Internal("param build failed");
  }
  PkeyPtr pkey = FromData("EC", bld.get(), EVP_PKEY_KEYPAIR);
  if (!pkey) return Internal("ECP key import failed");
  return EcpKeyExchange::Make(info, std::move(pkey));
}

// ---------------------------------------------------------------------------------------------
// Curve25519, group 31 (RFC 8031).

constexpr size_t kX25519Len = 32;

class X25519KeyExchange final : public KeyExchange {
 public:
  static StatusOr<std::unique_ptr<KeyExchange>> Make(PkeyPtr pkey) {
    std::vector<std::byte> pub(kX25519Len);
    size_t len = pub.size();
    if (EVP_PKEY_get_raw_public_key(pkey.get(), U(pub.data()), &len) != 1 || len != kX25519Len) {
      return Internal("cannot export the X25519 public value");
    }
    return std::unique_ptr<KeyExchange>(new X25519KeyExchange(std::move(pkey), std::move(pub)));
  }

  DhGroup group() const override { return DhGroup::kCurve25519; }
  Bytes public_value() const override { return public_; }

  StatusOr<SecureBytes> ComputeSharedSecret(Bytes peer_public) const override {
    if (peer_public.size() != kX25519Len) {
      return BadPeer("X25519 public value is " + std::to_string(peer_public.size()) + " bytes, expected 32");
    }
    PkeyPtr peer(EVP_PKEY_new_raw_public_key_ex(nullptr, "X25519", nullptr, U(peer_public.data()), kX25519Len));
    if (!peer) return BadPeer("X25519 public value rejected");
    ASSIGN_OR_RETURN(SecureBytes secret, Derive(pkey_.get(), peer.get(), /*pad=*/false, kX25519Len));
    // RFC 7748 §6.1 / RFC 8031 §2.3: an all-zero output means a small-order peer point. OpenSSL
    // already refuses it; check again without branching on secret bytes.
    unsigned char acc = 0;
    for (std::byte b : secret.span()) acc = static_cast<unsigned char>(acc | std::to_integer<unsigned char>(b));
    if (acc == 0) return BadPeer("X25519 shared secret is all zero (small-order peer value)");
    return secret;
  }

 private:
  X25519KeyExchange(PkeyPtr pkey, std::vector<std::byte> pub) : pkey_(std::move(pkey)), public_(std::move(pub)) {}

  PkeyPtr pkey_;
  std::vector<std::byte> public_;
};

// ---------------------------------------------------------------------------------------------
// MODP groups 14 and 15 (RFC 3526, generator 2).

struct ModpGroupInfo {
  DhGroup group;
  const char* name;
  size_t prime_len;
};
constexpr ModpGroupInfo kModp2048{DhGroup::kModp2048, "modp_2048", 256};
constexpr ModpGroupInfo kModp3072{DhGroup::kModp3072, "modp_3072", 384};

class ModpKeyExchange final : public KeyExchange {
 public:
  static StatusOr<std::unique_ptr<KeyExchange>> Make(const ModpGroupInfo& info, PkeyPtr pkey) {
    BIGNUM* y = nullptr;
    BIGNUM* p = nullptr;
    if (EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, &y) != 1) return Internal("no MODP public value");
    BnPtr y_owner(y);
    if (EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_FFC_P, &p) != 1) return Internal("no MODP prime");
    BnPtr p_owner(p);
    if (static_cast<size_t>(BN_num_bytes(p)) != info.prime_len) return Internal("MODP prime has the wrong size");
    // RFC 7296 §3.4: the public value is left-padded with zeros to the prime's length.
    std::vector<std::byte> pub(info.prime_len);
    if (BN_bn2binpad(y, U(pub.data()), static_cast<int>(pub.size())) != static_cast<int>(pub.size())) {
      return Internal("MODP public value export failed");
    }
    BnPtr p_minus_1(BN_dup(p));
    if (!p_minus_1 || BN_sub_word(p_minus_1.get(), 1) != 1) return Internal("allocation failed");
    return std::unique_ptr<KeyExchange>(
        new ModpKeyExchange(info, std::move(pkey), std::move(pub), std::move(p_minus_1)));
  }

  DhGroup group() const override { return info_.group; }
  Bytes public_value() const override { return public_; }

  StatusOr<SecureBytes> ComputeSharedSecret(Bytes peer_public) const override {
    if (peer_public.size() != info_.prime_len) {
      return BadPeer("MODP public value is " + std::to_string(peer_public.size()) + " bytes, expected " +
                     std::to_string(info_.prime_len));
    }
    BnPtr y(BN_bin2bn(U(peer_public.data()), static_cast<int>(peer_public.size()), nullptr));
    if (!y) return Internal("allocation failed");
    // 0, 1 and p-1 (and anything >= p) would force the shared secret into a group of order <= 2.
    if (BN_cmp(y.get(), BN_value_one()) <= 0 || BN_cmp(y.get(), p_minus_1_.get()) >= 0) {
      return BadPeer("MODP public value out of range (must be 1 < y < p-1)");
    }
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, info_.name, 0) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y.get()) != 1) {
      return Internal("param build failed");
    }
    PkeyPtr peer = FromData("DH", bld.get(), EVP_PKEY_PUBLIC_KEY);
    if (!peer) return BadPeer("MODP public value rejected");
    if (!PublicCheck(peer.get())) return BadPeer("MODP public value is not in the prime-order subgroup");
    // RFC 7296 §2.14: g^ir is padded with zeros to the length of the modulus.
    return Derive(pkey_.get(), peer.get(), /*pad=*/true, info_.prime_len);
  }

 private:
  ModpKeyExchange(const ModpGroupInfo& info, PkeyPtr pkey, std::vector<std::byte> pub, BnPtr p_minus_1)
      : info_(info), pkey_(std::move(pkey)), public_(std::move(pub)), p_minus_1_(std::move(p_minus_1)) {}

  const ModpGroupInfo& info_;
  PkeyPtr pkey_;
  std::vector<std::byte> public_;
  BnPtr p_minus_1_;
};

StatusOr<std::unique_ptr<KeyExchange>> GenerateModp(const ModpGroupInfo& info) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) return Internal("MODP keygen init failed");
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(info.name), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_PKEY_CTX_set_params(ctx.get(), params) != 1) return Internal("MODP group not available");
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &pkey) != 1) return Internal("MODP key generation failed");
  return ModpKeyExchange::Make(info, PkeyPtr(pkey));
}

StatusOr<std::unique_ptr<KeyExchange>> ImportModp(const ModpGroupInfo& info, Bytes private_key) {
  // p comes from OpenSSL's named group, via a parameters-only key.
  ParamBldPtr pbld(OSSL_PARAM_BLD_new());
  if (!pbld || OSSL_PARAM_BLD_push_utf8_string(pbld.get(), OSSL_PKEY_PARAM_GROUP_NAME, info.name, 0) != 1) {
    return Internal("param build failed");
  }
  PkeyPtr params_key = FromData("DH", pbld.get(), EVP_PKEY_KEY_PARAMETERS);
  BIGNUM* p = nullptr;
  if (!params_key || EVP_PKEY_get_bn_param(params_key.get(), OSSL_PKEY_PARAM_FFC_P, &p) != 1) {
    return Internal("MODP group not available");
  }
  BnPtr p_owner(p);
  SecretBnPtr priv(BN_bin2bn(U(private_key.data()), static_cast<int>(private_key.size()), nullptr));
  BnPtr g(BN_new());
  BnPtr y(BN_new());
  BnCtxPtr bn_ctx(BN_CTX_new());
  if (!priv || !g || !y || !bn_ctx || BN_set_word(g.get(), 2) != 1) return Internal("allocation failed");
  if (BN_cmp(priv.get(), BN_value_one()) <= 0 || BN_cmp(priv.get(), p) >= 0) {
    return OsslFailure(StatusCode::kInvalidArgument, "KE: private exponent out of range");
  }
  if (BN_mod_exp(y.get(), g.get(), priv.get(), p, bn_ctx.get()) != 1) return Internal("modexp failed");
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, info.name, 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y.get()) != 1) {
    return Internal("param build failed");
  }
  PkeyPtr pkey = FromData("DH", bld.get(), EVP_PKEY_KEYPAIR);
  if (!pkey) return Internal("MODP key import failed");
  return ModpKeyExchange::Make(info, std::move(pkey));
}

Status Unsupported(DhGroup group) {
  return UnimplementedError("IKE crypto: KE: Diffie-Hellman group " + std::to_string(static_cast<int>(group)) +
                            " is not supported");
}

}  // namespace

bool IsSupportedKeyExchange(DhGroup group) {
  switch (group) {
    case DhGroup::kModp2048:
    case DhGroup::kModp3072:
    case DhGroup::kEcp256:
    case DhGroup::kEcp384:
    case DhGroup::kCurve25519:
      return true;
    default:
      return false;
  }
}

StatusOr<std::unique_ptr<KeyExchange>> CreateKeyExchange(DhGroup group) {
  switch (group) {
    case DhGroup::kModp2048:
      return GenerateModp(kModp2048);
    case DhGroup::kModp3072:
      return GenerateModp(kModp3072);
    case DhGroup::kEcp256:
      return GenerateEcp(kP256);
    case DhGroup::kEcp384:
      return GenerateEcp(kP384);
    case DhGroup::kCurve25519: {
      PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
      if (!pkey) return Internal("X25519 key generation failed");
      return X25519KeyExchange::Make(std::move(pkey));
    }
    default:
      return Unsupported(group);
  }
}

StatusOr<std::unique_ptr<KeyExchange>> CreateKeyExchangeForTest(DhGroup group, Bytes private_key) {
  switch (group) {
    case DhGroup::kModp2048:
      return ImportModp(kModp2048, private_key);
    case DhGroup::kModp3072:
      return ImportModp(kModp3072, private_key);
    case DhGroup::kEcp256:
      return ImportEcp(kP256, private_key);
    case DhGroup::kEcp384:
      return ImportEcp(kP384, private_key);
    case DhGroup::kCurve25519: {
      if (private_key.size() != kX25519Len) {
        return InvalidArgumentError("IKE crypto: KE: X25519 private key must be 32 bytes");
      }
      PkeyPtr pkey(EVP_PKEY_new_raw_private_key_ex(nullptr, "X25519", nullptr, U(private_key.data()), kX25519Len));
      if (!pkey) return Internal("X25519 key import failed");
      return X25519KeyExchange::Make(std::move(pkey));
    }
    default:
      return Unsupported(group);
  }
}

}  // namespace ipsec::ike
