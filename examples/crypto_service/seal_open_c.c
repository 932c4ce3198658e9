/* Crypto service example (C ABI): seal a two-segment message with AES-128-GCM, check it against a
 * known answer (GCM spec test case 3, McGrew & Viega 2005), open it in place and refuse a forged tag.
 * Completions arrive through a callback (ipsec_cs_dispatch). Exits 1 on any mismatch. */
#include <ipsec_accel/crypto_service.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

static void check(int ok, const char* what) {
  printf("%-48s %s\n", what, ok ? "ok" : "MISMATCH");
  if (!ok) ++failures;
}

static const uint8_t kKey[16] = {0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c,
                                 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08};
static const uint8_t kIv[12] = {0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
static const uint8_t kPlain[64] = {
    0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26, 0x9a,
    0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda, 0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31, 0x8a, 0x72,
    0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49, 0xa6, 0xb5, 0x25,
    0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39, 0x1a, 0xaf, 0xd2, 0x55};
static const uint8_t kCipher[64] = {
    0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24, 0x4b, 0x72, 0x21, 0xb7, 0x84, 0xd0, 0xd4, 0x9c,
    0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0, 0x35, 0xc1, 0x7e, 0x23, 0x29, 0xac, 0xa1, 0x2e,
    0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93, 0x1c, 0x7d, 0x8f, 0x6a, 0x5a, 0xac, 0x84, 0xaa, 0x05,
    0x1b, 0xa3, 0x0b, 0x39, 0x6a, 0x0a, 0xac, 0x97, 0x3d, 0x58, 0xe0, 0x91, 0x47, 0x3f, 0x59, 0x85};
static const uint8_t kTag[16] = {0x4d, 0x5c, 0x2a, 0xf3, 0x27, 0xcd, 0x64, 0xa6,
                                 0x2c, 0xf3, 0x5a, 0xbd, 0x2b, 0xa6, 0xfa, 0xb4};

/* The callback records the completions it is handed. */
struct seen {
  ipsec_cs_completion c[8];
  size_t n;
};

static void on_done(void* ctx, const ipsec_cs_completion* c, size_t count) {
  struct seen* s = (struct seen*)ctx;
  size_t i;
  for (i = 0; i < count && s->n < 8; ++i) s->c[s->n++] = c[i];
}

int main(void) {
  ipsec_cs_config cfg = {1, 64, IPSEC_CS_PROVIDER_AUTO, 0};
  ipsec_cs_service* svc = NULL;
  ipsec_cs_key* key = NULL;
  struct seen seen;
  uint8_t part1[20], part2[44], ct[64], tag[16];
  ipsec_cs_seg in[2], out[1];
  ipsec_cs_job job;
  size_t accepted = 0, n = 0, i, zero = 1;
  int rc;

  if (IPSEC_CS_VERSION_MAJOR != (ipsec_cs_version() >> 16)) {
    fprintf(stderr, "ABI major version mismatch\n");
    return 1;
  }
  rc = ipsec_cs_create(&cfg, &svc);
  if (rc != IPSEC_CS_OK) {
    fprintf(stderr, "ipsec_cs_create: %s\n", ipsec_cs_strerror(rc));
    return 1;
  }
  printf("backend: %s\n", ipsec_cs_backend_name(svc));
  rc = ipsec_cs_key_create(svc, IPSEC_CS_KEY_AES_GCM_128, kKey, sizeof(kKey), &key);
  check(rc == IPSEC_CS_OK, "key created");
  memset(&seen, 0, sizeof(seen));
  check(ipsec_cs_set_callback(svc, 0, on_done, &seen) == IPSEC_CS_OK, "callback set");

  memcpy(part1, kPlain, 20);
  memcpy(part2, kPlain + 20, 44);
  in[0].base = part1;
  in[0].len = sizeof(part1);
  in[1].base = part2;
  in[1].len = sizeof(part2);
  out[0].base = ct;
  out[0].len = sizeof(ct);
  memset(&job, 0, sizeof(job));
  job.op = IPSEC_CS_OP_SEAL;
  job.key = key;
  job.iv = kIv;
  job.in = in;
  job.in_count = 2;
  job.out = out;
  job.out_count = 1;
  job.tag = tag;
  job.tag_len = IPSEC_CS_GCM_TAG_SIZE;
  job.user_data = 7;
  rc = ipsec_cs_submit(svc, 0, &job, 1, &accepted);
  check(rc == IPSEC_CS_OK && accepted == 1, "seal submitted");
  rc = ipsec_cs_dispatch(svc, 0, 16, &n);
  check(rc == IPSEC_CS_OK && n == 1 && seen.n == 1 && seen.c[0].user_data == 7 &&
            seen.c[0].status == IPSEC_CS_STATUS_OK,
        "seal completed through the callback");
  check(memcmp(ct, kCipher, 64) == 0, "ciphertext matches GCM test case 3");
  check(memcmp(tag, kTag, 16) == 0, "tag matches GCM test case 3");

  /* Open in place. */
  job.op = IPSEC_CS_OP_OPEN;
  job.in = out;
  job.in_count = 1;
  job.user_data = 8;
  rc = ipsec_cs_submit(svc, 0, &job, 1, &accepted);
  rc |= ipsec_cs_dispatch(svc, 0, 16, &n);
  check(rc == IPSEC_CS_OK && seen.n == 2 && seen.c[1].status == IPSEC_CS_STATUS_OK && memcmp(ct, kPlain, 64) == 0,
        "open in place restores the plaintext");

  /* Seal again, forge the tag, open: auth_failed and a wiped output. */
  job.op = IPSEC_CS_OP_SEAL;
  job.user_data = 9;
  rc = ipsec_cs_submit(svc, 0, &job, 1, &accepted);
  tag[15] ^= 0x80;
  job.op = IPSEC_CS_OP_OPEN;
  job.user_data = 10;
  rc |= ipsec_cs_submit(svc, 0, &job, 1, &accepted);
  rc |= ipsec_cs_dispatch(svc, 0, 16, &n);
  check(rc == IPSEC_CS_OK && seen.n == 4 && seen.c[3].user_data == 10 &&
            seen.c[3].status == IPSEC_CS_STATUS_AUTH_FAILED,
        "forged tag is refused");
  for (i = 0; i < sizeof(ct); ++i) zero &= ct[i] == 0;
  check(zero == 1, "output of the refused open is wiped");

  ipsec_cs_key_destroy(key);
  ipsec_cs_destroy(svc);
  printf("%s\n", failures == 0 ? "PASS" : "FAIL");
  return failures == 0 ? 0 : 1;
}
