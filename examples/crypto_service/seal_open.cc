// Crypto service example (C++ API): seal a message held in two segments with AES-128-GCM, check the
// result against a known answer (GCM spec test case 3, McGrew & Viega, "The Galois/Counter Mode of
// Operation", 2005), open it again in place, show that a forged tag is refused, and MAC it with
// HMAC-SHA-256 in the same batch. Completions are collected by polling. Exits 1 on any mismatch.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "host/common/bytes.h"
#include "host/crypto_service/crypto_service.h"

using namespace ipsec;
using namespace ipsec::cs;

namespace {

int failures = 0;

void Check(bool ok, const char* what) {
  std::printf("%-48s %s\n", what, ok ? "ok" : "MISMATCH");
  if (!ok) ++failures;
}

std::vector<std::byte> Hex(const char* hex) {
  return HexDecode(hex).value();
}

}  // namespace

int main() {
  auto svc_or = CryptoService::Create({.num_queues = 1, .queue_depth = 64});
  if (!svc_or.ok()) {
    std::fprintf(stderr, "create: %s\n", svc_or.status().ToString().c_str());
    return 1;
  }
  CryptoService& svc = **svc_or;
  std::printf("backend: %s\n", std::string(svc.backend_name()).c_str());

  const auto key_bytes = Hex("feffe9928665731c6d6a8f9467308308");
  const auto iv = Hex("cafebabefacedbaddecaf888");
  const auto plaintext =
      Hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255");
  const auto expected_ct =
      Hex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
          "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985");
  const auto expected_tag = Hex("4d5c2af327cd64a62cf35abd2ba6fab4");

  auto key = svc.CreateKey(KeyType::kAesGcm128, key_bytes);
  auto mac_key = svc.CreateKey(KeyType::kHmacSha256, key_bytes);
  if (!key.ok() || !mac_key.ok()) return 1;

  // The message lives in two buffers (a header and a payload, say); the ciphertext goes to one.
  std::vector<std::byte> part1(plaintext.begin(), plaintext.begin() + 20);
  std::vector<std::byte> part2(plaintext.begin() + 20, plaintext.end());
  std::vector<std::byte> ct(plaintext.size());
  std::byte tag[16], mac[32];
  const Segment in[] = {Seg(Bytes(part1)), Seg(Bytes(part2))};
  const Segment out[] = {Seg(MutableBytes(ct))};

  // One batch, one doorbell: a seal and an HMAC.
  const Job batch[] = {
      {.op = Op::kSeal, .key = key->get(), .iv = iv.data(), .in = in, .out = out, .tag = tag, .user_data = 1},
      {.op = Op::kHmac, .key = mac_key->get(), .in = in, .tag = mac, .tag_len = 32, .user_data = 2},
  };
  auto accepted = svc.Submit(0, batch);
  Check(accepted.ok() && *accepted == 2, "submit seal + hmac");
  Completion done[4];
  size_t n = svc.Poll(0, done);
  Check(n == 2 && done[0].user_data == 1 && done[0].status == JobStatus::kOk && done[1].status == JobStatus::kOk,
        "both jobs completed ok");
  Check(ct == expected_ct, "ciphertext matches GCM test case 3");
  Check(std::memcmp(tag, expected_tag.data(), 16) == 0, "tag matches GCM test case 3");

  // Open in place.
  const Segment inplace[] = {Seg(MutableBytes(ct))};
  Job open{
      .op = Op::kOpen, .key = key->get(), .iv = iv.data(), .in = inplace, .out = inplace, .tag = tag, .user_data = 3};
  (void)svc.Submit(0, {&open, 1});
  n = svc.Poll(0, done);
  Check(n == 1 && done[0].status == JobStatus::kOk && ct == plaintext, "open in place restores the plaintext");

  // A forged tag: the job fails with auth_failed and its output is wiped.
  Job seal_again{.op = Op::kSeal, .key = key->get(), .iv = iv.data(), .in = inplace, .out = inplace, .tag = tag};
  (void)svc.Submit(0, {&seal_again, 1});
  tag[0] ^= std::byte{1};
  (void)svc.Submit(0, {&open, 1});
  n = svc.Poll(0, done);
  Check(n == 2 && done[1].status == JobStatus::kAuthFailed, "forged tag is refused");
  Check(ct == std::vector<std::byte>(ct.size()), "output of the refused open is wiped");

  std::printf("%s\n", failures == 0 ? "PASS" : "FAIL");
  return failures == 0 ? 0 : 1;
}
