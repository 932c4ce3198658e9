// crypto_service_bench: crypto service throughput against calling intel-ipsec-mb directly, in the
// same run, on the same buffers.
//
// Rows: AES-128-GCM and AES-256-GCM seal at 64, 576, 1420 and 9000 bytes (12-byte IV, 8-byte AAD,
// 16-byte tag, in place), and HMAC-SHA-256-128 at the same sizes. Each measurement processes bursts
// of 32 jobs:
//   direct:  IMB_AES128/256_GCM_ENC per job with a pre-expanded key (the ipsec-mb direct API), or
//            32 HMAC jobs through IMB_SUBMIT_JOB then flushed (the job API, multi-buffer lanes);
//   service: one CryptoService::Submit of 32 jobs (one doorbell) and one Poll of 32 completions on
//            the software backend (provider ipsec-mb), single-segment buffers.
// ratio = direct ns per job / service ns per job (1.00: no overhead). Target: AES-GCM seal at
// 1420 bytes through the service at least 80 % of direct ipsec-mb (both key sizes).
//
// Timing: each measurement runs bursts for at least --min-time seconds in 1 ms slices; --reps
// repetitions are interleaved across measurements and the fastest slice is kept (a shared machine).
// Usage: crypto_service_bench [--quick] [--min-time SECONDS] [--reps N]
//   --quick: tiny minimum time, one repetition, targets not graded (CI smoke test).
// Exit status: 0, also when a target is missed; 2 on errors (a job not completing ok).
#include <intel-ipsec-mb.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "host/crypto_service/crypto_service.h"

namespace {

using namespace ipsec;
using namespace ipsec::cs;
using Clock = std::chrono::steady_clock;

constexpr size_t kBurst = 32;
constexpr size_t kSizes[] = {64, 576, 1420, 9000};
constexpr size_t kAad = 8;

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "crypto_service_bench: %s\n", msg.c_str());
  std::exit(2);
}

double TimeOnce(const std::function<void()>& burst, double min_time) {
  for (int i = 0; i < 4; ++i) burst();
  const double slice = std::min(0.001, min_time);
  double best = std::numeric_limits<double>::infinity(), total = 0;
  do {
    uint64_t bursts = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    do {
      for (int i = 0; i < 4; ++i) burst();
      bursts += 4;
      elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (elapsed < slice);
    best = std::min(best, elapsed * 1e9 / static_cast<double>(bursts * kBurst));
    total += elapsed;
  } while (total < min_time);
  return best;
}

struct Buffers {
  std::vector<std::vector<uint8_t>> text, aad, tag, iv;
  explicit Buffers(size_t len) {
    for (size_t i = 0; i < kBurst; ++i) {
      text.emplace_back(len, static_cast<uint8_t>(i));
      aad.emplace_back(kAad, 0xaa);
      tag.emplace_back(32, 0);
      iv.emplace_back(12, static_cast<uint8_t>(i + 1));
    }
  }
};

std::byte* B(uint8_t* p) {
  return reinterpret_cast<std::byte*>(p);
}

struct Row {
  std::string name;
  size_t len;
  bool gcm;
  bool graded;
  double direct = std::numeric_limits<double>::infinity();
  double service = std::numeric_limits<double>::infinity();
  std::function<void()> direct_burst, service_burst;
};

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  double min_time = 0.2;
  int reps = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
      min_time = 0.002;
      reps = 1;
    } else if (a == "--min-time" && i + 1 < argc) {
      min_time = std::atof(argv[++i]);
    } else if (a == "--reps" && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else {
      Die("usage: crypto_service_bench [--quick] [--min-time SECONDS] [--reps N]");
    }
  }
  if (!crypto::IpsecMbAvailable()) {
    std::printf("intel-ipsec-mb does not run on this CPU: nothing to compare\n");
    return 0;
  }

  // Direct ipsec-mb state.
  IMB_MGR* mgr = alloc_mb_mgr(0);
  init_mb_mgr_auto(mgr, nullptr);
  if (imb_get_errno(mgr) != 0) Die("ipsec-mb init failed");
  uint8_t key128[16], key256[32], mac_key[32];
  for (int i = 0; i < 32; ++i) {
    key256[i] = static_cast<uint8_t>(i * 7 + 1);
    mac_key[i] = static_cast<uint8_t>(i * 13 + 5);
    if (i < 16) key128[i] = static_cast<uint8_t>(i * 3 + 2);
  }
  alignas(64) static gcm_key_data gk128, gk256;
  IMB_AES128_GCM_PRE(mgr, key128, &gk128);
  IMB_AES256_GCM_PRE(mgr, key256, &gk256);
  alignas(16) uint8_t ipad[32], opad[32];
  {
    uint8_t block[64] = {}, pad[64];
    std::memcpy(block, mac_key, 32);
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
    IMB_SHA256_ONE_BLOCK(mgr, pad, ipad);
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
    IMB_SHA256_ONE_BLOCK(mgr, pad, opad);
  }

  // The service.
  auto svc_or = CryptoService::Create({.num_queues = 1, .queue_depth = 256, .provider = crypto::Provider::kIpsecMb});
  if (!svc_or.ok()) Die(svc_or.status().ToString());
  CryptoService& svc = **svc_or;
  auto k128 = svc.CreateKey(KeyType::kAesGcm128, {reinterpret_cast<const std::byte*>(key128), 16});
  auto k256 = svc.CreateKey(KeyType::kAesGcm256, {reinterpret_cast<const std::byte*>(key256), 32});
  auto kmac = svc.CreateKey(KeyType::kHmacSha256, {reinterpret_cast<const std::byte*>(mac_key), 32});
  if (!k128.ok() || !k256.ok() || !kmac.ok()) Die("key creation failed");

  std::vector<std::unique_ptr<Buffers>> bufs;
  std::vector<std::unique_ptr<std::vector<Segment>>> segs;
  std::vector<std::unique_ptr<std::vector<Job>>> job_lists;
  std::vector<Completion> done(kBurst);
  std::vector<Row> rows;

  for (int alg = 0; alg < 3; ++alg) {
    for (size_t len : kSizes) {
      bufs.push_back(std::make_unique<Buffers>(len));
      Buffers* b = bufs.back().get();
      // Segments: [aad_i, text_i] pairs.
      segs.push_back(std::make_unique<std::vector<Segment>>());
      auto* sv = segs.back().get();
      for (size_t i = 0; i < kBurst; ++i) {
        sv->push_back({b->aad[i].data(), kAad});
        sv->push_back({b->text[i].data(), len});
      }
      job_lists.push_back(std::make_unique<std::vector<Job>>());
      auto* jobs = job_lists.back().get();
      for (size_t i = 0; i < kBurst; ++i) {
        const Segment* aad = &(*sv)[2 * i];
        const Segment* text = &(*sv)[2 * i + 1];
        if (alg < 2) {
          jobs->push_back({.op = Op::kSeal,
                           .key = alg == 0 ? k128->get() : k256->get(),
                           .iv = B(b->iv[i].data()),
                           .aad = {aad, 1},
                           .in = {text, 1},
                           .out = {text, 1},
                           .tag = B(b->tag[i].data()),
                           .user_data = i});
        } else {
          jobs->push_back({.op = Op::kHmac,
                           .key = kmac->get(),
                           .in = {text, 1},
                           .tag = B(b->tag[i].data()),
                           .tag_len = 16,
                           .user_data = i});
        }
      }
      Row r;
      r.name = alg == 0 ? "AES-128-GCM seal" : alg == 1 ? "AES-256-GCM seal" : "HMAC-SHA-256-128";
      r.len = len;
      r.gcm = alg < 2;
      r.graded = alg < 2 && len == 1420;
      if (alg < 2) {
        const bool a256 = alg == 1;
        r.direct_burst = [b, len, a256, mgr] {
          gcm_context_data ctx;
          for (size_t i = 0; i < kBurst; ++i) {
            uint8_t* t = b->text[i].data();
            if (a256) {
              IMB_AES256_GCM_ENC(mgr, &gk256, &ctx, t, t, len, b->iv[i].data(), b->aad[i].data(), kAad,
                                 b->tag[i].data(), 16);
            } else {
              IMB_AES128_GCM_ENC(mgr, &gk128, &ctx, t, t, len, b->iv[i].data(), b->aad[i].data(), kAad,
                                 b->tag[i].data(), 16);
            }
          }
        };
      } else {
        r.direct_burst = [b, len, mgr, &ipad, &opad] {
          for (size_t i = 0; i < kBurst; ++i) {
            IMB_JOB* j = IMB_GET_NEXT_JOB(mgr);
            j->cipher_mode = IMB_CIPHER_NULL;
            j->cipher_direction = IMB_DIR_ENCRYPT;
            j->chain_order = IMB_ORDER_HASH_CIPHER;
            j->hash_alg = IMB_AUTH_HMAC_SHA_256;
            j->src = b->text[i].data();
            j->dst = nullptr;
            j->msg_len_to_cipher_in_bytes = 0;
            j->cipher_start_src_offset_in_bytes = 0;
            j->hash_start_src_offset_in_bytes = 0;
            j->msg_len_to_hash_in_bytes = len;
            j->auth_tag_output = b->tag[i].data();
            j->auth_tag_output_len_in_bytes = 16;
            j->u.HMAC._hashed_auth_key_xor_ipad = ipad;
            j->u.HMAC._hashed_auth_key_xor_opad = opad;
            for (IMB_JOB* d = IMB_SUBMIT_JOB(mgr); d != nullptr; d = IMB_GET_COMPLETED_JOB(mgr)) {
              if (d->status != IMB_STATUS_COMPLETED) Die("direct HMAC job failed");
            }
          }
          for (IMB_JOB* d = IMB_FLUSH_JOB(mgr); d != nullptr; d = IMB_FLUSH_JOB(mgr)) {
            if (d->status != IMB_STATUS_COMPLETED) Die("direct HMAC job failed");
          }
        };
      }
      r.service_burst = [&svc, jobs, &done] {
        auto n = svc.Submit(0, *jobs);
        if (!n.ok() || *n != kBurst) Die("submit refused jobs");
        if (svc.Poll(0, done) != kBurst) Die("missing completions");
        for (const Completion& c : done) {
          if (c.status != JobStatus::kOk) Die("job failed: " + std::string(JobStatusName(c.status)));
        }
      };
      rows.push_back(std::move(r));
    }
  }

  for (int rep = 0; rep < reps; ++rep) {
    for (Row& r : rows) {
      r.direct = std::min(r.direct, TimeOnce(r.direct_burst, min_time));
      r.service = std::min(r.service, TimeOnce(r.service_burst, min_time));
    }
  }

  std::printf("crypto service vs direct intel-ipsec-mb %s (burst %zu, one core, best of %d x %.3f s)\n",
              IMB_VERSION_STR, kBurst, reps, min_time);
  std::printf("%-18s %6s %12s %12s %10s %10s %7s\n", "op", "bytes", "direct ns", "service ns", "direct MB/s",
              "svc MB/s", "ratio");
  bool ok = true;
  for (const Row& r : rows) {
    const double ratio = r.direct / r.service;
    std::printf("%-18s %6zu %12.1f %12.1f %10.0f %10.0f %6.2f%s\n", r.name.c_str(), r.len, r.direct, r.service,
                static_cast<double>(r.len) * 1e3 / r.direct, static_cast<double>(r.len) * 1e3 / r.service, ratio,
                r.graded ? " *" : "");
    if (r.graded && ratio < 0.80) ok = false;
  }
  if (quick) {
    std::printf("target (* rows: service >= 80%% of direct at 1420 B): not graded in --quick mode\n");
  } else {
    std::printf("target (* rows: service >= 80%% of direct at 1420 B): %s\n", ok ? "MET" : "MISSED");
  }
  free_mb_mgr(mgr);
  return 0;
}
