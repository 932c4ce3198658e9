// IKEv2 SKEYSEED, IKE SA keys and CHILD_SA KEYMAT (RFC 7296 §2.14, §2.17, §2.18).
#include "host/ike/crypto/key_derivation.h"

#include <algorithm>
#include <array>
#include <vector>

namespace ipsec::ike {
namespace {

// Splits `keymat` front to back; the caller sized it as the sum of the requested lengths.
class KeySplitter {
 public:
  explicit KeySplitter(Bytes keymat) : keymat_(keymat) {}
  SecureBytes Take(size_t n) {
    SecureBytes key(keymat_.subspan(pos_, n));
    pos_ += n;
    return key;
  }

 private:
  Bytes keymat_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<SecureBytes> ComputeSkeyseed(const Prf& prf, Bytes ni, Bytes nr, Bytes g_ir) {
  // The PRF key is Ni | Nr, concatenated in a zeroized buffer (nonces are public, but the copy is
  // cheap and keeps the rule "key inputs live in SecureBytes" simple).
  SecureBytes key(ni.size() + nr.size());
  std::copy(ni.begin(), ni.end(), key.mutable_span().begin());
  std::copy(nr.begin(), nr.end(), key.mutable_span().begin() + static_cast<std::ptrdiff_t>(ni.size()));
  return prf.Compute(key.span(), g_ir);
}

StatusOr<SecureBytes> ComputeRekeySkeyseed(const Prf& old_prf, Bytes old_sk_d, Bytes g_ir_new, Bytes ni, Bytes nr) {
  const std::array<Bytes, 3> data = {g_ir_new, ni, nr};
  return old_prf.Compute(old_sk_d, data);
}

StatusOr<IkeSaKeys> DeriveIkeSaKeys(const Prf& prf, Bytes skeyseed, Bytes ni, Bytes nr, uint64_t spi_i,
                                    uint64_t spi_r, const IkeSaTransforms& transforms) {
  if (prf.id() != transforms.prf) {
    return InvalidArgumentError("IKE crypto: PRF object does not match the negotiated PRF transform");
  }
  RETURN_IF_ERROR(ValidateSkTransform(transforms.sk));
  const size_t prf_len = prf.key_size();
  const size_t enc_len = SkEncryptionKeySize(transforms.sk);
  const size_t integ_len = SkIntegrityKeySize(transforms.sk.integ);

  std::vector<std::byte> seed(ni.begin(), ni.end());
  seed.insert(seed.end(), nr.begin(), nr.end());
  const size_t spi_at = seed.size();
  seed.resize(spi_at + 16);
  StoreU64Be(&seed[spi_at], spi_i);
  StoreU64Be(&seed[spi_at + 8], spi_r);

  const size_t total = 3 * prf_len + 2 * integ_len + 2 * enc_len;
  ASSIGN_OR_RETURN(SecureBytes keymat, prf.PrfPlus(skeyseed, seed, total));
  KeySplitter split(keymat.span());
  IkeSaKeys keys;
  keys.sk_d = split.Take(prf_len);
  keys.sk_ai = split.Take(integ_len);
  keys.sk_ar = split.Take(integ_len);
  keys.sk_ei = split.Take(enc_len);
  keys.sk_er = split.Take(enc_len);
  keys.sk_pi = split.Take(prf_len);
  keys.sk_pr = split.Take(prf_len);
  return keys;
}

StatusOr<ChildSaKeys> DeriveChildSaKeys(const Prf& prf, Bytes sk_d, Bytes g_ir_new, Bytes ni, Bytes nr,
                                        sa::Suite suite) {
  const sa::SuiteInfo& info = sa::GetSuiteInfo(suite);
  const size_t enc_len = info.enc_key_len + info.salt_len;
  const size_t auth_len = info.auth_key_len;

  // g^ir (new) is secret, so the seed lives in SecureBytes.
  SecureBytes seed(g_ir_new.size() + ni.size() + nr.size());
  auto out = seed.mutable_span().begin();
  out = std::copy(g_ir_new.begin(), g_ir_new.end(), out);
  out = std::copy(ni.begin(), ni.end(), out);
  std::copy(nr.begin(), nr.end(), out);

  ASSIGN_OR_RETURN(SecureBytes keymat, prf.PrfPlus(sk_d, seed.span(), 2 * (enc_len + auth_len)));
  // §2.17: encryption key i->r, integrity key i->r, encryption key r->i, integrity key r->i.
  KeySplitter split(keymat.span());
  ChildSaKeys keys;
  keys.initiator_to_responder.enc_key = split.Take(enc_len);
  keys.initiator_to_responder.auth_key = split.Take(auth_len);
  keys.responder_to_initiator.enc_key = split.Take(enc_len);
  keys.responder_to_initiator.auth_key = split.Take(auth_len);
  return keys;
}

}  // namespace ipsec::ike
