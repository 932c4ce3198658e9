// CryptoService tests, run for both software providers (intel-ipsec-mb and OpenSSL):
//   - Wycheproof known answers (https://github.com/C2SP/wycheproof, Apache-2.0; aes_gcm_test.json and
//     hmac_sha256_test.json from tests/data/wycheproof/), submitted in large mixed batches;
//   - random differential tests against OpenSSL EVP computed here, independently of the service
//     (random keys, lengths 0..9000, random scatter-gather splits of AAD, input and output);
//   - mixed batches with bad tags and malformed jobs: only those jobs fail, with the right status;
//   - completion by polling, by callback and by eventfd (epoll), ring-full back-pressure;
//   - several threads each driving its own queue.
#include "host/crypto_service/crypto_service.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "host/common/bytes.h"
#include "host/crypto_service/backend.h"

namespace ipsec::crypto {
// gtest prints providers by name (found by ADL), which also names the ctest cases.
inline void PrintTo(Provider p, std::ostream* os) {
  *os << ProviderName(p);
}
}  // namespace ipsec::crypto

namespace ipsec::cs {
namespace {

using ByteVec = std::vector<std::byte>;
using crypto::Provider;
using json = nlohmann::json;

ByteVec Hex(const std::string& hex) {
  auto r = HexDecode(hex);
  EXPECT_TRUE(r.ok()) << hex;
  return r.ok() ? r.value() : ByteVec{};
}
const uint8_t* U(const std::byte* p) {
  return reinterpret_cast<const uint8_t*>(p);
}
uint8_t* U(std::byte* p) {
  return reinterpret_cast<uint8_t*>(p);
}

// --- OpenSSL reference ---------------------------------------------------------------------------

void RefSeal(Bytes key, Bytes iv, Bytes aad, Bytes pt, ByteVec* ct, ByteVec* tag) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const EVP_CIPHER* c = key.size() == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  ct->assign(pt.size(), std::byte{0});
  tag->assign(16, std::byte{0});
  int n = 0;
  ASSERT_EQ(EVP_EncryptInit_ex(ctx, c, nullptr, U(key.data()), U(iv.data())), 1);
  if (!aad.empty()) EVP_EncryptUpdate(ctx, nullptr, &n, U(aad.data()), static_cast<int>(aad.size()));
  if (!pt.empty()) EVP_EncryptUpdate(ctx, U(ct->data()), &n, U(pt.data()), static_cast<int>(pt.size()));
  uint8_t fin[16];
  EVP_EncryptFinal_ex(ctx, fin, &n);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag->data());
  EVP_CIPHER_CTX_free(ctx);
}

ByteVec RefHmac(Bytes key, Bytes msg) {
  ByteVec mac(32);
  unsigned int n = 0;
  static const uint8_t kEmpty = 0;
  HMAC(EVP_sha256(), key.empty() ? &kEmpty : U(key.data()), static_cast<int>(key.size()),
       msg.empty() ? &kEmpty : U(msg.data()), msg.size(), U(mac.data()), &n);
  return mac;
}

// --- helpers ---------------------------------------------------------------------------------------

// Splits `buf` into up to `max_pieces` random segments (some possibly empty).
std::vector<Segment> RandomSplit(MutableBytes buf, std::mt19937_64& rng, size_t max_pieces) {
  const size_t pieces = 1 + rng() % max_pieces;
  std::vector<size_t> cuts;
  for (size_t i = 0; i + 1 < pieces; ++i) cuts.push_back(buf.empty() ? 0 : rng() % (buf.size() + 1));
  std::sort(cuts.begin(), cuts.end());
  std::vector<Segment> out;
  size_t prev = 0;
  for (size_t c : cuts) {
    out.push_back(Seg(buf.subspan(prev, c - prev)));
    prev = c;
  }
  out.push_back(Seg(buf.subspan(prev)));
  return out;
}

ByteVec RandomBytes(std::mt19937_64& rng, size_t n) {
  ByteVec v(n);
  for (auto& b : v) b = std::byte(rng() & 0xff);
  return v;
}

std::string Name(const ::testing::TestParamInfo<Provider>& info) {
  return info.param == Provider::kIpsecMb ? "IpsecMb" : "OpenSsl";
}

class CryptoServiceTest : public ::testing::TestWithParam<Provider> {
 protected:
  void SetUp() override {
    if (GetParam() == Provider::kIpsecMb && !crypto::IpsecMbAvailable()) {
      GTEST_SKIP() << "intel-ipsec-mb does not run on this CPU";
    }
  }
  std::unique_ptr<CryptoService> Make(uint32_t queues = 1, uint32_t depth = 1024, bool fd = false) {
    auto s = CryptoService::Create(
        {.num_queues = queues, .queue_depth = depth, .provider = GetParam(), .completion_fd = fd});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<KeyContext> Key(CryptoService& svc, KeyType t, Bytes k) {
    auto r = svc.CreateKey(t, k);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  // Submits everything (polling when the ring fills) and returns the completions in order.
  static std::vector<Completion> RunAll(CryptoService& svc, uint32_t q, std::span<const Job> jobs) {
    std::vector<Completion> done;
    std::vector<Completion> buf(64);
    size_t next = 0;
    while (next < jobs.size()) {
      auto n = svc.Submit(q, jobs.subspan(next));
      EXPECT_TRUE(n.ok());
      if (!n.ok()) break;
      next += *n;
      for (size_t got; (got = svc.Poll(q, buf)) != 0;) done.insert(done.end(), buf.begin(), buf.begin() + got);
    }
    return done;
  }
};

INSTANTIATE_TEST_SUITE_P(Providers, CryptoServiceTest, ::testing::Values(Provider::kIpsecMb, Provider::kOpenSsl), Name);

const json& Load(const std::string& file) {
  static std::map<std::string, json> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  std::ifstream in(std::string(IPSEC_TEST_DATA_DIR) + "/wycheproof/" + file);
  json doc = in ? json::parse(in, nullptr, false) : json();
  if (doc.is_discarded() || !doc.contains("testGroups")) {
    ADD_FAILURE() << "cannot load " << file;
    doc = json{{"testGroups", json::array()}};
  }
  return cache.emplace(file, std::move(doc)).first->second;
}

// --- known answers ---------------------------------------------------------------------------------

TEST_P(CryptoServiceTest, WycheproofAesGcmInBatches) {
  auto svc = Make();
  const json& doc = Load("aes_gcm_test.json");
  // Everything the service supports (128/256-bit keys, 96-bit IV, 128-bit tag) as one list of seal
  // and open jobs, submitted in batches that mix valid and invalid vectors.
  struct Vec {
    int id;
    bool valid;
    ByteVec iv, aad, msg, ct, tag;
    ByteVec seal_out, seal_tag, open_out;
    std::unique_ptr<KeyContext> key;
    Segment aad_seg[1], msg_seg[1], ct_seg[1], seal_out_seg[1], open_out_seg[1];
  };
  std::vector<std::unique_ptr<Vec>> vecs;
  int skipped = 0;
  for (const json& g : doc["testGroups"]) {
    const int ks = g["keySize"], ivs = g["ivSize"], ts = g["tagSize"];
    for (const json& t : g["tests"]) {
      if ((ks != 128 && ks != 256) || ivs != 96 || ts != 128) {
        ++skipped;
        continue;
      }
      auto v = std::make_unique<Vec>();
      v->id = t["tcId"];
      v->valid = t["result"] != "invalid";
      v->iv = Hex(t["iv"]);
      v->aad = Hex(t["aad"]);
      v->msg = Hex(t["msg"]);
      v->ct = Hex(t["ct"]);
      v->tag = Hex(t["tag"]);
      v->seal_out.resize(v->msg.size());
      v->seal_tag.resize(16);
      v->open_out.resize(v->ct.size());
      v->key = Key(*svc, ks == 128 ? KeyType::kAesGcm128 : KeyType::kAesGcm256, Hex(t["key"]));
      vecs.push_back(std::move(v));
    }
  }
  ASSERT_GT(vecs.size(), 100u);
  std::vector<Job> jobs;
  for (auto& vp : vecs) {
    Vec& v = *vp;
    v.aad_seg[0] = Seg(Bytes(v.aad));
    v.msg_seg[0] = Seg(Bytes(v.msg));
    v.ct_seg[0] = Seg(Bytes(v.ct));
    v.seal_out_seg[0] = Seg(MutableBytes(v.seal_out));
    v.open_out_seg[0] = Seg(MutableBytes(v.open_out));
    jobs.push_back({.op = Op::kSeal,
                    .key = v.key.get(),
                    .iv = v.iv.data(),
                    .aad = v.aad_seg,
                    .in = v.msg_seg,
                    .out = v.seal_out_seg,
                    .tag = v.seal_tag.data(),
                    .user_data = uint64_t(v.id) * 2});
    jobs.push_back({.op = Op::kOpen,
                    .key = v.key.get(),
                    .iv = v.iv.data(),
                    .aad = v.aad_seg,
                    .in = v.ct_seg,
                    .out = v.open_out_seg,
                    .tag = v.tag.data(),
                    .user_data = uint64_t(v.id) * 2 + 1});
  }
  const auto done = RunAll(*svc, 0, jobs);
  ASSERT_EQ(done.size(), jobs.size());
  for (size_t i = 0; i < vecs.size(); ++i) {
    const Vec& v = *vecs[i];
    const Completion& seal = done[2 * i];
    const Completion& open = done[2 * i + 1];
    EXPECT_EQ(seal.user_data, uint64_t(v.id) * 2);
    EXPECT_EQ(seal.status, JobStatus::kOk) << "tcId " << v.id;
    if (v.valid) {
      EXPECT_EQ(v.seal_out, v.ct) << "tcId " << v.id;
      EXPECT_EQ(v.seal_tag, v.tag) << "tcId " << v.id;
      EXPECT_EQ(open.status, JobStatus::kOk) << "tcId " << v.id;
      EXPECT_EQ(v.open_out, v.msg) << "tcId " << v.id;
    } else {
      EXPECT_EQ(open.status, JobStatus::kAuthFailed) << "tcId " << v.id;
      EXPECT_EQ(v.open_out, ByteVec(v.open_out.size())) << "tcId " << v.id << ": unauthenticated output kept";
    }
  }
  std::printf("[ vectors  ] aes_gcm_test.json: %zu run, %d skipped (unsupported key/IV/tag size)\n", vecs.size(),
              skipped);
}

TEST_P(CryptoServiceTest, WycheproofHmacSha256) {
  auto svc = Make();
  const json& doc = Load("hmac_sha256_test.json");
  struct Vec {
    int id;
    bool valid;
    size_t tag_len;
    ByteVec msg, tag, out;
    std::unique_ptr<KeyContext> key;
    Segment seg[1];
  };
  std::vector<std::unique_ptr<Vec>> vecs;
  for (const json& g : doc["testGroups"]) {
    const size_t tag_len = g["tagSize"].get<size_t>() / 8;
    for (const json& t : g["tests"]) {
      auto v = std::make_unique<Vec>();
      v->id = t["tcId"];
      v->valid = t["result"] != "invalid";
      v->tag_len = tag_len;
      v->msg = Hex(t["msg"]);
      v->tag = Hex(t["tag"]);
      v->out.resize(tag_len);
      v->key = Key(*svc, KeyType::kHmacSha256, Hex(t["key"]));
      v->seg[0] = Seg(Bytes(v->msg));
      vecs.push_back(std::move(v));
    }
  }
  ASSERT_EQ(vecs.size(), doc["numberOfTests"].get<size_t>());
  std::vector<Job> jobs;
  for (auto& vp : vecs) {
    Vec& v = *vp;
    jobs.push_back({.op = Op::kHmac, .key = v.key.get(), .in = v.seg, .tag = v.out.data(), .tag_len = v.tag_len});
    jobs.push_back({.op = Op::kHmacVerify, .key = v.key.get(), .in = v.seg, .tag = v.tag.data(), .tag_len = v.tag_len});
  }
  const auto done = RunAll(*svc, 0, jobs);
  ASSERT_EQ(done.size(), jobs.size());
  for (size_t i = 0; i < vecs.size(); ++i) {
    const Vec& v = *vecs[i];
    EXPECT_EQ(done[2 * i].status, JobStatus::kOk) << "tcId " << v.id;
    EXPECT_EQ(v.out == v.tag, v.valid) << "tcId " << v.id;
    EXPECT_EQ(done[2 * i + 1].status, v.valid ? JobStatus::kOk : JobStatus::kAuthFailed) << "tcId " << v.id;
  }
}

// --- differential ----------------------------------------------------------------------------------

// One random job and everything needed to check it.
struct RandomCase {
  Op op;
  ByteVec key, iv, aad, in, out, tag, expect, expect_tag;
  std::vector<Segment> aad_segs, in_segs, out_segs;
  std::unique_ptr<KeyContext> kc;
  size_t tag_len = 16;
};

void MakeCase(CryptoService& svc, std::mt19937_64& rng, RandomCase& c, size_t max_len = 9000) {
  const int kind = static_cast<int>(rng() % 3);
  const size_t len = rng() % 8 == 0 ? rng() % 33 : rng() % (max_len + 1);
  c.in = RandomBytes(rng, len);
  if (kind < 2) {
    const bool aes256 = rng() & 1;
    c.key = RandomBytes(rng, aes256 ? 32 : 16);
    c.iv = RandomBytes(rng, 12);
    c.aad = RandomBytes(rng, rng() % 4 == 0 ? 0 : rng() % 64);
    c.kc = svc.CreateKey(aes256 ? KeyType::kAesGcm256 : KeyType::kAesGcm128, c.key).value();
    c.op = kind == 0 ? Op::kSeal : Op::kOpen;
    ByteVec ct, tag;
    RefSeal(c.key, c.iv, c.aad, c.in, &ct, &tag);
    if (c.op == Op::kSeal) {
      c.expect = ct;
      c.expect_tag = tag;
      c.tag.resize(16);
    } else {
      c.expect = c.in;
      c.in = ct;
      c.tag = tag;
    }
    c.out.resize(len);
    c.aad_segs = RandomSplit(c.aad, rng, 3);
    c.in_segs = RandomSplit(c.in, rng, kMaxSegments);
    c.out_segs = rng() % 4 == 0 ? c.in_segs : RandomSplit(c.out, rng, kMaxSegments);  // sometimes in place
    if (c.out_segs.data() != nullptr && rng() % 4 == 0)
      c.out_segs = RandomSplit(c.in, rng, 5);  // in place, other split
  } else {
    c.key = RandomBytes(rng, rng() % 100);
    c.kc = svc.CreateKey(KeyType::kHmacSha256, c.key).value();
    c.op = Op::kHmac;
    c.tag_len = rng() & 1 ? 16 : 32;
    c.tag.resize(c.tag_len);
    c.expect_tag = RefHmac(c.key, c.in);
    c.expect_tag.resize(c.tag_len);
    c.in_segs = RandomSplit(c.in, rng, kMaxSegments);
  }
}

Job JobFor(RandomCase& c, uint64_t id) {
  return {.op = c.op,
          .key = c.kc.get(),
          .iv = c.iv.data(),
          .aad = c.aad_segs,
          .in = c.in_segs,
          .out = c.out_segs,
          .tag = c.tag.data(),
          .tag_len = c.tag_len,
          .user_data = id};
}

void CheckCase(const RandomCase& c, const Completion& done, uint64_t id) {
  ASSERT_EQ(done.user_data, id);
  EXPECT_EQ(done.status, JobStatus::kOk) << JobStatusName(done.status) << " " << JobFieldName(done.field);
  const bool in_place = !c.out_segs.empty() && c.out_segs[0].base != nullptr && !c.in.empty() &&
                        c.out_segs[0].base >= static_cast<const void*>(c.in.data()) &&
                        c.out_segs[0].base <= static_cast<const void*>(c.in.data() + c.in.size());
  if (c.op == Op::kSeal || c.op == Op::kOpen) {
    EXPECT_EQ(in_place ? c.in : c.out, c.expect) << "len " << c.in.size();
  }
  if (c.op == Op::kSeal || c.op == Op::kHmac) {
    EXPECT_EQ(c.tag, c.expect_tag) << "len " << c.in.size();
  }
}

TEST_P(CryptoServiceTest, RandomJobsMatchOpenSsl) {
  auto svc = Make(1, 64);
  std::mt19937_64 rng(0xc0ffee);
  for (int round = 0; round < 40; ++round) {
    std::vector<RandomCase> cases(1 + rng() % 48);  // some batches larger than the ring
    std::vector<Job> jobs;
    for (size_t i = 0; i < cases.size(); ++i) MakeCase(*svc, rng, cases[i]);
    for (size_t i = 0; i < cases.size(); ++i) jobs.push_back(JobFor(cases[i], i));
    const auto done = RunAll(*svc, 0, jobs);
    ASSERT_EQ(done.size(), cases.size());
    for (size_t i = 0; i < cases.size(); ++i) CheckCase(cases[i], done[i], i);
  }
}

TEST_P(CryptoServiceTest, LargeScatteredHmacMessages) {
  // ipsec-mb: multi-segment HMAC input is gathered into a 64 KiB per-queue arena, so a batch of
  // large messages forces flushes mid-batch; messages over 65534 bytes (ipsec-mb's limit) take the
  // OpenSSL path. All results must still be right.
  auto svc = Make();
  std::mt19937_64 rng(7);
  std::vector<RandomCase> cases(6);
  std::vector<Job> jobs;
  for (auto& c : cases) {
    c.op = Op::kHmac;
    c.key = RandomBytes(rng, 32);
    c.kc = Key(*svc, KeyType::kHmacSha256, c.key);
    c.in = RandomBytes(rng, 20000 + rng() % 60000);
    c.in_segs = RandomSplit(c.in, rng, kMaxSegments);
    c.in_segs.push_back(Seg(MutableBytes(c.in).last(0)));
    c.tag_len = 32;
    c.tag.resize(32);
    c.expect_tag = RefHmac(c.key, c.in);
  }
  for (size_t i = 0; i < cases.size(); ++i) jobs.push_back(JobFor(cases[i], i));
  const auto done = RunAll(*svc, 0, jobs);
  ASSERT_EQ(done.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) CheckCase(cases[i], done[i], i);
}

// --- mixed batches -------------------------------------------------------------------------------

TEST_P(CryptoServiceTest, MixedBatchWithBadTagsFailsOnlyThoseJobs) {
  auto svc = Make();
  std::mt19937_64 rng(42);
  const ByteVec key = RandomBytes(rng, 16), mac_key = RandomBytes(rng, 40);
  auto kc = Key(*svc, KeyType::kAesGcm128, key);
  auto mc = Key(*svc, KeyType::kHmacSha256, mac_key);
  constexpr size_t kN = 48;
  std::vector<ByteVec> pt(kN), buf(kN), iv(kN), tag(kN);
  std::vector<Segment> seg(kN);
  std::vector<Job> jobs;
  std::vector<bool> bad(kN);
  for (size_t i = 0; i < kN; ++i) {
    pt[i] = RandomBytes(rng, 1 + rng() % 2000);
    iv[i] = RandomBytes(rng, 12);
    ByteVec ct;
    if (i % 3 == 2) {
      tag[i] = RefHmac(mac_key, pt[i]);
      buf[i] = pt[i];
    } else {
      RefSeal(key, iv[i], {}, pt[i], &ct, &tag[i]);
      buf[i] = ct;
    }
    bad[i] = rng() % 3 == 0;
    if (bad[i]) tag[i][rng() % 16] ^= std::byte{0x40};
  }
  for (size_t i = 0; i < kN; ++i) {
    seg[i] = Seg(MutableBytes(buf[i]));
    if (i % 3 == 2) {
      jobs.push_back({.op = Op::kHmacVerify,
                      .key = mc.get(),
                      .in = {&seg[i], 1},
                      .tag = tag[i].data(),
                      .tag_len = 16,
                      .user_data = i});
    } else {
      jobs.push_back({.op = Op::kOpen,
                      .key = kc.get(),
                      .iv = iv[i].data(),
                      .in = {&seg[i], 1},
                      .out = {&seg[i], 1},
                      .tag = tag[i].data(),
                      .user_data = i});
    }
  }
  auto n = svc->Submit(0, jobs);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, kN);
  std::vector<Completion> done(kN + 1);
  ASSERT_EQ(svc->Poll(0, done), kN);
  for (size_t i = 0; i < kN; ++i) {
    EXPECT_EQ(done[i].user_data, i);
    EXPECT_EQ(done[i].status, bad[i] ? JobStatus::kAuthFailed : JobStatus::kOk) << i;
    if (i % 3 != 2) {
      EXPECT_EQ(buf[i], bad[i] ? ByteVec(pt[i].size()) : pt[i]) << i;
    }
  }
  EXPECT_EQ(svc->stats(0).doorbells, 1u);
}

TEST_P(CryptoServiceTest, MalformedJobsGetTheirOwnStatus) {
  auto svc = Make();
  auto other = Make();
  const ByteVec k16(16, std::byte{1});
  auto gcm = Key(*svc, KeyType::kAesGcm128, k16);
  auto mac = Key(*svc, KeyType::kHmacSha256, k16);
  auto foreign = Key(*other, KeyType::kAesGcm128, k16);
  ByteVec iv(12), data(100), out(100), tag(16), tag32(32);
  const Segment in[] = {Seg(Bytes(data))};
  const Segment outs[] = {Seg(MutableBytes(out))};
  const Segment short_out[] = {Seg(MutableBytes(out).first(99))};
  const Segment null_seg[] = {{nullptr, 5}};
  std::vector<Segment> many(kMaxSegments + 1, Seg(MutableBytes(data).first(1)));
  const Job good{.op = Op::kSeal, .key = gcm.get(), .iv = iv.data(), .in = in, .out = outs, .tag = tag.data()};
  struct Case {
    Job job;
    JobStatus status;
    JobField field;
  };
  std::vector<Case> cases;
  auto add = [&](Job j, JobStatus s, JobField f) { cases.push_back({j, s, f}); };
  add(good, JobStatus::kOk, JobField::kNone);
  {
    Job j = good;
    j.op = static_cast<Op>(9);
    add(j, JobStatus::kInvalidArgument, JobField::kOp);
  }
  {
    Job j = good;
    j.key = nullptr;
    add(j, JobStatus::kInvalidArgument, JobField::kKey);
  }
  {
    Job j = good;
    j.key = foreign.get();
    add(j, JobStatus::kInvalidArgument, JobField::kKey);
  }
  {
    Job j = good;
    j.key = mac.get();
    add(j, JobStatus::kInvalidArgument, JobField::kKey);
  }
  {
    Job j = good;
    j.iv = nullptr;
    add(j, JobStatus::kInvalidArgument, JobField::kIv);
  }
  {
    Job j = good;
    j.aad = null_seg;
    add(j, JobStatus::kInvalidArgument, JobField::kAad);
  }
  {
    Job j = good;
    j.aad = many;
    add(j, JobStatus::kTooManySegments, JobField::kAad);
  }
  {
    Job j = good;
    j.in = null_seg;
    add(j, JobStatus::kInvalidArgument, JobField::kInput);
  }
  {
    Job j = good;
    j.in = many;
    add(j, JobStatus::kTooManySegments, JobField::kInput);
  }
  {
    Job j = good;
    j.out = short_out;
    add(j, JobStatus::kInvalidArgument, JobField::kOutput);
  }
  {
    Job j = good;
    j.out = {};
    add(j, JobStatus::kInvalidArgument, JobField::kOutput);
  }
  {
    Job j = good;
    j.out = many;
    add(j, JobStatus::kTooManySegments, JobField::kOutput);
  }
  {
    Job j = good;
    j.tag = nullptr;
    add(j, JobStatus::kInvalidArgument, JobField::kTag);
  }
  {
    Job j = good;
    j.tag_len = 12;
    add(j, JobStatus::kInvalidArgument, JobField::kTag);
  }
  add(good, JobStatus::kOk, JobField::kNone);
  const Job hmac{.op = Op::kHmac, .key = mac.get(), .in = in, .tag = tag32.data(), .tag_len = 32};
  add(hmac, JobStatus::kOk, JobField::kNone);
  {
    Job j = hmac;
    j.key = gcm.get();
    add(j, JobStatus::kInvalidArgument, JobField::kKey);
  }
  {
    Job j = hmac;
    j.tag_len = 20;
    add(j, JobStatus::kInvalidArgument, JobField::kTag);
  }
  {
    Job j = hmac;
    j.out = outs;
    add(j, JobStatus::kInvalidArgument, JobField::kOutput);
  }
  {
    Job j = hmac;
    j.aad = in;
    add(j, JobStatus::kInvalidArgument, JobField::kAad);
  }
  {
    Job j = hmac;
    j.in = many;
    add(j, JobStatus::kTooManySegments, JobField::kInput);
  }
  {
    Job j = hmac;
    j.op = Op::kHmacVerify;
    j.tag = nullptr;
    add(j, JobStatus::kInvalidArgument, JobField::kTag);
  }
  std::vector<Job> jobs;
  for (size_t i = 0; i < cases.size(); ++i) {
    cases[i].job.user_data = i;
    jobs.push_back(cases[i].job);
  }
  const auto done = RunAll(*svc, 0, jobs);
  ASSERT_EQ(done.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(done[i].status, cases[i].status) << "case " << i << ": " << JobStatusName(done[i].status);
    EXPECT_EQ(done[i].field, cases[i].field) << "case " << i << ": " << JobFieldName(done[i].field);
  }
  EXPECT_EQ(svc->stats(0).rejected, cases.size() - 3);
}

TEST_P(CryptoServiceTest, RejectsBadKeysAndOptions) {
  auto svc = Make();
  EXPECT_EQ(svc->CreateKey(KeyType::kAesGcm128, ByteVec(32)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(svc->CreateKey(KeyType::kAesGcm256, ByteVec(16)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(svc->CreateKey(KeyType::kAesGcm128, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(svc->CreateKey(static_cast<KeyType>(7), ByteVec(16)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(svc->CreateKey(KeyType::kHmacSha256, {}).ok());
  // Error messages never carry key bytes.
  const ByteVec secret(31, std::byte{0xab});
  EXPECT_EQ(svc->CreateKey(KeyType::kAesGcm256, secret).status().message().find("ab"), std::string::npos);
  EXPECT_FALSE(CryptoService::Create({.num_queues = 0}).ok());
  EXPECT_FALSE(CryptoService::Create({.num_queues = 65}).ok());
  EXPECT_FALSE(CryptoService::Create({.queue_depth = 100}).ok());
  EXPECT_FALSE(CryptoService::Create({.queue_depth = 0}).ok());
  EXPECT_FALSE(svc->Submit(1, {}).ok());
  Completion c[1];
  EXPECT_EQ(svc->Poll(5, c), 0u);
  EXPECT_FALSE(svc->SetCallback(3, nullptr, nullptr).ok());
  EXPECT_EQ(svc->fd(0), -1);
}

// --- completion paths ----------------------------------------------------------------------------

struct Collected {
  std::vector<Completion> c;
  int calls = 0;
};
void Collect(void* ctx, std::span<const Completion> done) {
  auto* col = static_cast<Collected*>(ctx);
  col->c.insert(col->c.end(), done.begin(), done.end());
  ++col->calls;
}

TEST_P(CryptoServiceTest, CallbackReceivesCompletionsAcrossTheRingWrap) {
  auto svc = Make(1, 8);
  auto key = Key(*svc, KeyType::kHmacSha256, ByteVec(20, std::byte{3}));
  ByteVec msg(100, std::byte{9});
  std::vector<ByteVec> tags(20, ByteVec(32));
  const Segment in[] = {Seg(Bytes(msg))};
  Collected col;
  ASSERT_TRUE(svc->SetCallback(0, &Collect, &col).ok());
  EXPECT_EQ(svc->Dispatch(0), 0u);
  uint64_t id = 0;
  for (int round = 0; round < 4; ++round) {
    std::vector<Job> jobs;
    for (int i = 0; i < 5; ++i, ++id) {
      jobs.push_back(
          {.op = Op::kHmac, .key = key.get(), .in = in, .tag = tags[id].data(), .tag_len = 32, .user_data = id});
    }
    ASSERT_EQ(*svc->Submit(0, jobs), 5u);
    EXPECT_EQ(svc->Dispatch(0), 5u);
  }
  ASSERT_EQ(col.c.size(), 20u);
  for (uint64_t i = 0; i < 20; ++i) {
    EXPECT_EQ(col.c[i].user_data, i);
    EXPECT_EQ(col.c[i].status, JobStatus::kOk);
    EXPECT_EQ(tags[i], RefHmac(ByteVec(20, std::byte{3}), msg));
  }
  EXPECT_GT(col.calls, 4);  // some dispatches were split at the wrap
}

TEST_P(CryptoServiceTest, EventFdIsReadableWhileCompletionsArePending) {
  auto svc = Make(2, 64, /*fd=*/true);
  ASSERT_GE(svc->fd(0), 0);
  ASSERT_GE(svc->fd(1), 0);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(ep, 0);
  for (uint32_t q = 0; q < 2; ++q) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = q;
    ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, svc->fd(q), &ev), 0);
  }
  epoll_event evs[4];
  EXPECT_EQ(epoll_wait(ep, evs, 4, 0), 0);
  auto key = Key(*svc, KeyType::kAesGcm256, ByteVec(32, std::byte{5}));
  ByteVec iv(12), buf(1420), tag(16);
  const Segment s[] = {Seg(MutableBytes(buf))};
  const Job job{
      .op = Op::kSeal, .key = key.get(), .iv = iv.data(), .in = s, .out = s, .tag = tag.data(), .user_data = 77};
  ASSERT_EQ(*svc->Submit(1, {&job, 1}), 1u);
  ASSERT_EQ(*svc->Submit(1, {&job, 1}), 1u);
  ASSERT_EQ(epoll_wait(ep, evs, 4, 1000), 1);
  EXPECT_EQ(evs[0].data.u32, 1u);
  Completion c[1];
  ASSERT_EQ(svc->Poll(1, c), 1u);  // one still pending: stays readable
  EXPECT_EQ(epoll_wait(ep, evs, 4, 0), 1);
  ASSERT_EQ(svc->Poll(1, c), 1u);
  EXPECT_EQ(c[0].user_data, 77u);
  EXPECT_EQ(epoll_wait(ep, evs, 4, 0), 0);  // drained: cleared
  close(ep);
}

TEST_P(CryptoServiceTest, FullRingAcceptsOnlyWhatFits) {
  auto svc = Make(1, 4);
  auto key = Key(*svc, KeyType::kAesGcm128, ByteVec(16));
  ByteVec iv(12), tag(16);
  std::vector<Job> jobs(6, Job{.op = Op::kSeal, .key = key.get(), .iv = iv.data(), .tag = tag.data()});
  EXPECT_EQ(*svc->Submit(0, jobs), 4u);
  EXPECT_EQ(*svc->Submit(0, jobs), 0u);
  EXPECT_EQ(svc->pending(0), 4u);
  Completion c[2];
  EXPECT_EQ(svc->Poll(0, c), 2u);
  EXPECT_EQ(*svc->Submit(0, jobs), 2u);
  EXPECT_EQ(svc->stats(0).submitted, 6u);
  EXPECT_EQ(svc->stats(0).doorbells, 2u);  // the refused submit rang nothing
}

TEST_P(CryptoServiceTest, ManyQueuesFromSeveralThreads) {
  constexpr uint32_t kThreads = 4;
  auto svc = Make(kThreads, 32);
  // Keys shared by all queues.
  std::mt19937_64 krng(99);
  const ByteVec gk = RandomBytes(krng, 32), hk = RandomBytes(krng, 64);
  auto gcm = Key(*svc, KeyType::kAesGcm256, gk);
  auto mac = Key(*svc, KeyType::kHmacSha256, hk);
  std::vector<int> errors(kThreads);
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t + 1);
      for (int round = 0; round < 30; ++round) {
        constexpr size_t kN = 20;
        std::vector<ByteVec> in(kN), out(kN), tag(kN), iv(kN);
        std::vector<Segment> is(kN), os(kN);
        std::vector<Job> jobs;
        for (size_t i = 0; i < kN; ++i) {
          in[i] = RandomBytes(rng, rng() % 3000);
          out[i].resize(in[i].size());
          iv[i] = RandomBytes(rng, 12);
          is[i] = Seg(Bytes(in[i]));
          os[i] = Seg(MutableBytes(out[i]));
          const bool h = i % 2;
          tag[i].resize(h ? 32 : 16);
          jobs.push_back(h ? Job{.op = Op::kHmac,
                                 .key = mac.get(),
                                 .in = {&is[i], 1},
                                 .tag = tag[i].data(),
                                 .tag_len = 32,
                                 .user_data = i}
                           : Job{.op = Op::kSeal,
                                 .key = gcm.get(),
                                 .iv = iv[i].data(),
                                 .in = {&is[i], 1},
                                 .out = {&os[i], 1},
                                 .tag = tag[i].data(),
                                 .user_data = i});
        }
        if (*svc->Submit(t, jobs) != kN) ++errors[t];
        Completion c[kN];
        if (svc->Poll(t, c) != kN) ++errors[t];
        for (size_t i = 0; i < kN; ++i) {
          if (c[i].status != JobStatus::kOk || c[i].user_data != i) ++errors[t];
          if (i % 2) {
            if (tag[i] != RefHmac(hk, in[i])) ++errors[t];
          } else {
            ByteVec ct, rt;
            RefSeal(gk, iv[i], {}, in[i], &ct, &rt);
            if (ct != out[i] || rt != tag[i]) ++errors[t];
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (uint32_t t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], 0) << "queue " << t;
    EXPECT_EQ(svc->stats(t).submitted, 600u);
    EXPECT_EQ(svc->stats(t).doorbells, 30u);
  }
}

// A custom backend plugs in through the interface (the card would): jobs reach it validated.
class CountingBackend final : public Backend {
 public:
  struct Key final : KeyContext {
    Key(KeyType t, const void* o) : KeyContext(t, o) {}
  };
  std::string_view name() const override { return "counting"; }
  Status Init(uint32_t, uint32_t) override { return OkStatus(); }
  StatusOr<std::unique_ptr<KeyContext>> CreateKey(KeyType type, Bytes) override {
    return std::unique_ptr<KeyContext>(std::make_unique<Key>(type, this));
  }
  void Process(uint32_t, std::span<const Job> jobs, const CompletionSlots& slots) override {
    ++doorbells;
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (slots[i].status == JobStatus::kOk) ++run;
    }
  }
  int doorbells = 0, run = 0;
};

TEST(CryptoServiceBackendTest, CustomBackendGetsOneDoorbellPerBatch) {
  auto backend = std::make_shared<CountingBackend>();
  auto svc = CryptoService::Create({.backend = backend});
  ASSERT_TRUE(svc.ok());
  EXPECT_EQ((*svc)->backend_name(), "counting");
  auto key = (*svc)->CreateKey(KeyType::kAesGcm128, ByteVec(16));
  ByteVec iv(12), tag(16);
  std::vector<Job> jobs(10, Job{.op = Op::kSeal, .key = key->get(), .iv = iv.data(), .tag = tag.data()});
  jobs[3].iv = nullptr;
  EXPECT_EQ(*(*svc)->Submit(0, jobs), 10u);
  EXPECT_EQ(backend->doorbells, 1);
  EXPECT_EQ(backend->run, 9);
}

}  // namespace
}  // namespace ipsec::cs
