/* The crypto service's C ABI driven from C99: every function with null handles and pointers, bad
 * configurations and key sizes, malformed jobs (per-job status and field), random seal/open/HMAC
 * jobs with scatter-gather lists checked against OpenSSL EVP, and the callback and fd paths.
 * Prints one line per check and exits 1 on any failure. */
#include <ipsec_accel/crypto_service.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                      \
  do {                                                                   \
    ++checks;                                                            \
    if (!(cond)) {                                                       \
      ++failures;                                                        \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                    \
  } while (0)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}
static void fill_random(uint8_t* p, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) p[i] = (uint8_t)next_rand();
}

static void test_null_arguments(void) {
  ipsec_cs_service* svc = NULL;
  ipsec_cs_key* key = NULL;
  ipsec_cs_completion c[2];
  size_t n = 99;
  uint8_t k[16] = {0};
  ipsec_cs_config bad_depth = {1, 100, IPSEC_CS_PROVIDER_AUTO, 0};
  ipsec_cs_config bad_queues = {0, 64, IPSEC_CS_PROVIDER_AUTO, 0};
  ipsec_cs_config bad_provider = {1, 64, 7, 0};
  ipsec_cs_config bad_flags = {1, 64, IPSEC_CS_PROVIDER_AUTO, 0x80};

  CHECK(ipsec_cs_create(NULL, NULL) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_create(&bad_depth, &svc) == IPSEC_CS_ERR_INVALID_ARGUMENT && svc == NULL);
  CHECK(ipsec_cs_create(&bad_queues, &svc) == IPSEC_CS_ERR_INVALID_ARGUMENT && svc == NULL);
  CHECK(ipsec_cs_create(&bad_provider, &svc) == IPSEC_CS_ERR_INVALID_ARGUMENT && svc == NULL);
  CHECK(ipsec_cs_create(&bad_flags, &svc) == IPSEC_CS_ERR_INVALID_ARGUMENT && svc == NULL);
  CHECK(ipsec_cs_key_create(NULL, IPSEC_CS_KEY_AES_GCM_128, k, 16, &key) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_submit(NULL, 0, NULL, 0, &n) == IPSEC_CS_ERR_INVALID_ARGUMENT && n == 0);
  CHECK(ipsec_cs_poll(NULL, 0, c, 2, &n) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_set_callback(NULL, 0, NULL, NULL) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_dispatch(NULL, 0, 1, &n) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_fd(NULL, 0) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(strcmp(ipsec_cs_backend_name(NULL), "none") == 0);
  ipsec_cs_destroy(NULL);
  ipsec_cs_key_destroy(NULL);

  /* Defaults, then misuse of a live service. */
  CHECK(ipsec_cs_create(NULL, &svc) == IPSEC_CS_OK && svc != NULL);
  CHECK(ipsec_cs_key_create(svc, IPSEC_CS_KEY_AES_GCM_128, k, 16, NULL) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_key_create(svc, IPSEC_CS_KEY_AES_GCM_128, NULL, 16, &key) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_key_create(svc, IPSEC_CS_KEY_AES_GCM_128, k, 15, &key) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_key_create(svc, IPSEC_CS_KEY_AES_GCM_256, k, 16, &key) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_key_create(svc, 9, k, 16, &key) == IPSEC_CS_ERR_INVALID_ARGUMENT && key == NULL);
  CHECK(ipsec_cs_key_create(svc, IPSEC_CS_KEY_HMAC_SHA256, NULL, 0, &key) == IPSEC_CS_OK && key != NULL);
  ipsec_cs_key_destroy(key);
  CHECK(ipsec_cs_submit(svc, 1, NULL, 0, &n) == IPSEC_CS_ERR_INVALID_ARGUMENT);  /* one queue only */
  CHECK(ipsec_cs_submit(svc, 0, NULL, 3, &n) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_submit(svc, 0, NULL, 0, NULL) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_submit(svc, 0, NULL, 0, &n) == IPSEC_CS_OK && n == 0);
  CHECK(ipsec_cs_poll(svc, 0, NULL, 2, &n) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_poll(svc, 0, c, 2, NULL) == IPSEC_CS_ERR_INVALID_ARGUMENT);
  CHECK(ipsec_cs_poll(svc, 0, c, 2, &n) == IPSEC_CS_OK && n == 0);
  CHECK(ipsec_cs_dispatch(svc, 0, 1, &n) == IPSEC_CS_ERR_NOT_ENABLED);
  CHECK(ipsec_cs_fd(svc, 0) == IPSEC_CS_ERR_NOT_ENABLED);
  CHECK(strcmp(ipsec_cs_strerror(IPSEC_CS_ERR_NOT_ENABLED), "not enabled in the service configuration") == 0);
  CHECK(strcmp(ipsec_cs_strerror(-99), "unknown error") == 0);
  CHECK(strcmp(ipsec_cs_status_name(IPSEC_CS_STATUS_AUTH_FAILED), "auth_failed") == 0);
  CHECK(strcmp(ipsec_cs_status_name(42), "unknown") == 0);
  CHECK(strcmp(ipsec_cs_field_name(IPSEC_CS_FIELD_TAG), "tag") == 0);
  CHECK(strcmp(ipsec_cs_field_name(1000), "unknown") == 0);
  CHECK((ipsec_cs_version() >> 16) == IPSEC_CS_VERSION_MAJOR);
  ipsec_cs_destroy(svc);
}

static void test_malformed_jobs(void) {
  ipsec_cs_service* svc = NULL;
  ipsec_cs_key *gcm = NULL, *mac = NULL;
  uint8_t k[16] = {1}, iv[12] = {0}, buf[64] = {0}, tag[32] = {0};
  ipsec_cs_seg seg = {buf, sizeof(buf)};
  ipsec_cs_seg many[IPSEC_CS_MAX_SEGMENTS + 1];
  ipsec_cs_job jobs[12], good;
  ipsec_cs_completion c[16];
  size_t n = 0, i;
  const int32_t want_status[12] = {
      IPSEC_CS_STATUS_OK, IPSEC_CS_STATUS_INVALID_ARGUMENT, IPSEC_CS_STATUS_INVALID_ARGUMENT,
      IPSEC_CS_STATUS_INVALID_ARGUMENT, IPSEC_CS_STATUS_INVALID_ARGUMENT, IPSEC_CS_STATUS_INVALID_ARGUMENT,
      IPSEC_CS_STATUS_TOO_MANY_SEGMENTS, IPSEC_CS_STATUS_INVALID_ARGUMENT, IPSEC_CS_STATUS_INVALID_ARGUMENT,
      IPSEC_CS_STATUS_INVALID_ARGUMENT, IPSEC_CS_STATUS_INVALID_ARGUMENT, IPSEC_CS_STATUS_OK};
  const uint32_t want_field[12] = {IPSEC_CS_FIELD_NONE,   IPSEC_CS_FIELD_OP,  IPSEC_CS_FIELD_KEY,
                                   IPSEC_CS_FIELD_IV,     IPSEC_CS_FIELD_INPUT, IPSEC_CS_FIELD_AAD,
                                   IPSEC_CS_FIELD_OUTPUT, IPSEC_CS_FIELD_TAG, IPSEC_CS_FIELD_OP,
                                   IPSEC_CS_FIELD_KEY,    IPSEC_CS_FIELD_TAG, IPSEC_CS_FIELD_NONE};

  CHECK(ipsec_cs_create(NULL, &svc) == IPSEC_CS_OK);
  CHECK(ipsec_cs_key_create(svc, IPSEC_CS_KEY_AES_GCM_128, k, 16, &gcm) == IPSEC_CS_OK);
  CHECK(ipsec_cs_key_create(svc, IPSEC_CS_KEY_HMAC_SHA256, k, 16, &mac) == IPSEC_CS_OK);
  for (i = 0; i < IPSEC_CS_MAX_SEGMENTS + 1; ++i) {
    many[i].base = buf;
    many[i].len = 1;
  }
  memset(&good, 0, sizeof(good));
  good.op = IPSEC_CS_OP_SEAL;
  good.key = gcm;
  good.iv = iv;
  good.in = &seg;
  good.in_count = 1;
  good.out = &seg;
  good.out_count = 1;
  good.tag = tag;
  good.tag_len = 16;
  for (i = 0; i < 12; ++i) {
    jobs[i] = good;
    jobs[i].user_data = i;
  }
  jobs[1].op = 17;
  jobs[2].key = NULL;
  jobs[3].iv = NULL;
  jobs[4].in = NULL;          /* null list with a count */
  jobs[5].aad = NULL;
  jobs[5].aad_count = 2;
  jobs[6].out = many;
  jobs[6].out_count = IPSEC_CS_MAX_SEGMENTS + 1;
  jobs[7].tag_len = 8;
  jobs[8].reserved = 1;
  jobs[9].key = mac;          /* HMAC key for a seal */
  jobs[10].op = IPSEC_CS_OP_HMAC;
  jobs[10].key = mac;
  jobs[10].out = NULL;
  jobs[10].out_count = 0;
  jobs[10].tag_len = 24;
  jobs[11].op = IPSEC_CS_OP_HMAC;
  jobs[11].key = mac;
  jobs[11].out = NULL;
  jobs[11].out_count = 0;
  jobs[11].iv = NULL;
  jobs[11].tag_len = 32;
  CHECK(ipsec_cs_submit(svc, 0, jobs, 12, &n) == IPSEC_CS_OK && n == 12);
  CHECK(ipsec_cs_poll(svc, 0, c, 16, &n) == IPSEC_CS_OK && n == 12);
  for (i = 0; i < 12 && i < n; ++i) {
    CHECK(c[i].user_data == i);
    if (c[i].status != want_status[i] || c[i].field != want_field[i]) {
      fprintf(stderr, "job %zu: got %s/%s\n", i, ipsec_cs_status_name(c[i].status), ipsec_cs_field_name(c[i].field));
    }
    CHECK(c[i].status == want_status[i]);
    CHECK(c[i].field == want_field[i]);
  }
  ipsec_cs_key_destroy(gcm);
  ipsec_cs_key_destroy(mac);
  ipsec_cs_destroy(svc);
}

/* Splits [p, p+len) into `pieces` segments at random cut points. */
static uint32_t split(uint8_t* p, size_t len, ipsec_cs_seg* segs, uint32_t pieces) {
  size_t cuts[IPSEC_CS_MAX_SEGMENTS];
  uint32_t i, j;
  size_t prev = 0;
  for (i = 0; i + 1 < pieces; ++i) cuts[i] = len ? (size_t)(next_rand() % (len + 1)) : 0;
  for (i = 1; i + 1 < pieces; ++i) { /* insertion sort */
    size_t v = cuts[i];
    for (j = i; j > 0 && cuts[j - 1] > v; --j) cuts[j] = cuts[j - 1];
    cuts[j] = v;
  }
  for (i = 0; i + 1 < pieces; ++i) {
    segs[i].base = p + prev;
    segs[i].len = cuts[i] - prev;
    prev = cuts[i];
  }
  segs[pieces - 1].base = p + prev;
  segs[pieces - 1].len = len - prev;
  return pieces;
}

static void ref_gcm(int enc, const uint8_t* key, size_t key_len, const uint8_t* iv, const uint8_t* aad, size_t aad_len,
                    const uint8_t* in, size_t len, uint8_t* out, uint8_t* tag) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int n = 0;
  uint8_t fin[16];
  EVP_CipherInit_ex(ctx, key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(), NULL, key, iv, enc);
  if (aad_len) EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len);
  if (len) EVP_CipherUpdate(ctx, out, &n, in, (int)len);
  if (!enc) EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag);
  EVP_CipherFinal_ex(ctx, fin, &n);
  if (enc) EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag);
  EVP_CIPHER_CTX_free(ctx);
}

#define NJOBS 24
#define MAXLEN 9000

struct slot {
  uint8_t key[32], iv[12], aad[40], in[MAXLEN], out[MAXLEN], expect[MAXLEN], tag[32], expect_tag[32];
  size_t key_len, aad_len, len;
  ipsec_cs_seg aad_segs[3], in_segs[IPSEC_CS_MAX_SEGMENTS], out_segs[IPSEC_CS_MAX_SEGMENTS];
  ipsec_cs_key* k;
  int bad_tag;
};

static struct slot slots[NJOBS];

struct seen {
  ipsec_cs_completion c[NJOBS];
  size_t n;
};
static void on_done(void* ctx, const ipsec_cs_completion* c, size_t count) {
  struct seen* s = (struct seen*)ctx;
  size_t i;
  for (i = 0; i < count && s->n < NJOBS; ++i) s->c[s->n++] = c[i];
}

static void test_random_jobs(uint32_t provider) {
  ipsec_cs_config cfg = {2, 32, provider, IPSEC_CS_F_COMPLETION_FD};
  ipsec_cs_service* svc = NULL;
  ipsec_cs_job jobs[NJOBS];
  struct seen seen;
  int round;
  size_t i, n;
  CHECK(ipsec_cs_create(&cfg, &svc) == IPSEC_CS_OK);
  if (svc == NULL) return;
  CHECK(ipsec_cs_fd(svc, 1) >= 0);
  CHECK(ipsec_cs_set_callback(svc, 1, on_done, &seen) == IPSEC_CS_OK);
  for (round = 0; round < 10; ++round) {
    memset(jobs, 0, sizeof(jobs));
    for (i = 0; i < NJOBS; ++i) {
      struct slot* s = &slots[i];
      ipsec_cs_job* j = &jobs[i];
      const int kind = (int)(next_rand() % 3);
      unsigned int mac_len = 0;
      s->len = (size_t)(next_rand() % (MAXLEN + 1));
      s->bad_tag = 0;
      fill_random(s->in, s->len);
      j->in = s->in_segs;
      j->in_count = split(s->in, s->len, s->in_segs, (uint32_t)(1 + next_rand() % IPSEC_CS_MAX_SEGMENTS));
      j->tag = s->tag;
      j->user_data = i;
      if (kind == 2) {
        s->key_len = (size_t)(next_rand() % 80);
        fill_random(s->key, s->key_len);
        CHECK(ipsec_cs_key_create(svc, IPSEC_CS_KEY_HMAC_SHA256, s->key, s->key_len, &s->k) == IPSEC_CS_OK);
        j->op = IPSEC_CS_OP_HMAC;
        j->tag_len = next_rand() % 2 ? 16 : 32;
        HMAC(EVP_sha256(), s->key, (int)s->key_len, s->in, s->len, s->expect_tag, &mac_len);
      } else {
        s->key_len = next_rand() % 2 ? 16 : 32;
        fill_random(s->key, s->key_len);
        fill_random(s->iv, 12);
        s->aad_len = (size_t)(next_rand() % sizeof(s->aad));
        fill_random(s->aad, s->aad_len);
        CHECK(ipsec_cs_key_create(svc, s->key_len == 16 ? IPSEC_CS_KEY_AES_GCM_128 : IPSEC_CS_KEY_AES_GCM_256,
                                  s->key, s->key_len, &s->k) == IPSEC_CS_OK);
        j->iv = s->iv;
        j->aad = s->aad_segs;
        j->aad_count = split(s->aad, s->aad_len, s->aad_segs, (uint32_t)(1 + next_rand() % 3));
        j->out = s->out_segs;
        j->out_count = split(s->out, s->len, s->out_segs, (uint32_t)(1 + next_rand() % IPSEC_CS_MAX_SEGMENTS));
        j->tag_len = 16;
        if (kind == 0) {
          j->op = IPSEC_CS_OP_SEAL;
          ref_gcm(1, s->key, s->key_len, s->iv, s->aad, s->aad_len, s->in, s->len, s->expect, s->expect_tag);
        } else {
          /* Open: make a valid ciphertext and tag first, then maybe spoil the tag. */
          j->op = IPSEC_CS_OP_OPEN;
          memcpy(s->expect, s->in, s->len);
          ref_gcm(1, s->key, s->key_len, s->iv, s->aad, s->aad_len, s->expect, s->len, s->in, s->tag);
          s->bad_tag = next_rand() % 4 == 0;
          if (s->bad_tag) s->tag[next_rand() % 16] ^= 1;
        }
      }
      j->key = s->k;
    }
    seen.n = 0;
    {
      struct pollfd pfd;
      pfd.fd = ipsec_cs_fd(svc, 1);
      pfd.events = POLLIN;
      CHECK(poll(&pfd, 1, 0) == 0);
      CHECK(ipsec_cs_submit(svc, 1, jobs, NJOBS, &n) == IPSEC_CS_OK && n == NJOBS);
      CHECK(poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLIN));
      CHECK(ipsec_cs_dispatch(svc, 1, (size_t)-1, &n) == IPSEC_CS_OK && n == NJOBS);
      CHECK(poll(&pfd, 1, 0) == 0);
    }
    CHECK(seen.n == NJOBS);
    for (i = 0; i < seen.n; ++i) {
      struct slot* s = &slots[i];
      const ipsec_cs_job* j = &jobs[i];
      const int32_t want = s->bad_tag ? IPSEC_CS_STATUS_AUTH_FAILED : IPSEC_CS_STATUS_OK;
      CHECK(seen.c[i].user_data == i);
      CHECK(seen.c[i].status == want);
      if (j->op == IPSEC_CS_OP_SEAL) {
        CHECK(memcmp(s->out, s->expect, s->len) == 0);
        CHECK(memcmp(s->tag, s->expect_tag, 16) == 0);
      } else if (j->op == IPSEC_CS_OP_OPEN && !s->bad_tag) {
        CHECK(memcmp(s->out, s->expect, s->len) == 0);
      } else if (j->op == IPSEC_CS_OP_HMAC) {
        CHECK(memcmp(s->tag, s->expect_tag, j->tag_len) == 0);
      }
      ipsec_cs_key_destroy(s->k);
    }
  }
  ipsec_cs_destroy(svc);
}

int main(void) {
  test_null_arguments();
  test_malformed_jobs();
  test_random_jobs(IPSEC_CS_PROVIDER_IPSEC_MB);
  test_random_jobs(IPSEC_CS_PROVIDER_OPENSSL);
  printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
