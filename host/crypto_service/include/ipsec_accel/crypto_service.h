/* ipsec-accel crypto service: the stable C ABI (C99).
 *
 * Look-aside AES-GCM-128/256 seal/open and HMAC-SHA-256 jobs, submitted in batches (one doorbell per
 * batch) to one of N queues and completed through polling, a per-queue callback or a pollable file
 * descriptor (an eventfd). The C++ API is host/crypto_service/crypto_service.h; this header is the
 * same service behind opaque handles, with no C++ types, and it is what other languages bind to.
 *
 * ABI rules: structs here only grow at the end, a new field is announced by a minor version bump,
 * and enum values are never renumbered. Compare IPSEC_CS_VERSION (what you compiled against) with
 * ipsec_cs_version() (what you linked against): the major numbers must be equal.
 *
 * Threads: a queue is used by one thread at a time (no lock per job); different queues may be used
 * from different threads concurrently. Keys may be created from any thread and used on any queue.
 *
 * Errors: functions return IPSEC_CS_OK (0) or a negative ipsec_cs_error; never crash on a null
 * handle or pointer. Per-job problems are not function errors: each job gets a completion with its
 * own ipsec_cs_status and, for IPSEC_CS_INVALID_ARGUMENT, the ipsec_cs_field at fault.
 *
 * Keys: key bytes are copied and expanded at ipsec_cs_key_create (AES round keys and GHASH key, or
 * HMAC inner/outer states); the caller may wipe its copy right after. ipsec_cs_key_destroy zeroizes
 * the expanded state. A key must outlive every job that uses it.
 */
#ifndef IPSEC_ACCEL_CRYPTO_SERVICE_H_
#define IPSEC_ACCEL_CRYPTO_SERVICE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IPSEC_CS_VERSION_MAJOR 1
#define IPSEC_CS_VERSION_MINOR 0
#define IPSEC_CS_VERSION ((IPSEC_CS_VERSION_MAJOR << 16) | IPSEC_CS_VERSION_MINOR)

#define IPSEC_CS_IV_SIZE 12      /* AES-GCM nonce */
#define IPSEC_CS_GCM_TAG_SIZE 16 /* AES-GCM tag */
#define IPSEC_CS_MAX_SEGMENTS 16 /* per scatter-gather list (aad, in, out) */

/* Function results (negative on error). */
typedef enum ipsec_cs_error {
  IPSEC_CS_OK = 0,
  IPSEC_CS_ERR_INVALID_ARGUMENT = -1, /* null handle/pointer, bad queue index, bad config or key size */
  IPSEC_CS_ERR_NO_MEMORY = -2,
  IPSEC_CS_ERR_UNAVAILABLE = -3,      /* the requested provider or backend cannot run here */
  IPSEC_CS_ERR_NOT_ENABLED = -4,      /* e.g. ipsec_cs_fd without IPSEC_CS_F_COMPLETION_FD */
  IPSEC_CS_ERR_INTERNAL = -5
} ipsec_cs_error;

/* Per-job completion status. */
typedef enum ipsec_cs_status {
  IPSEC_CS_STATUS_OK = 0,
  IPSEC_CS_STATUS_AUTH_FAILED = 1,        /* open / HMAC verify: tag mismatch; open wipes the output */
  IPSEC_CS_STATUS_INVALID_ARGUMENT = 2,   /* see the completion's field */
  IPSEC_CS_STATUS_TOO_MANY_SEGMENTS = 3,  /* more than IPSEC_CS_MAX_SEGMENTS in the field's list */
  IPSEC_CS_STATUS_BACKEND_ERROR = 4       /* the backend refused the job (not expected) */
} ipsec_cs_status;

/* Which job field an IPSEC_CS_STATUS_INVALID_ARGUMENT / TOO_MANY_SEGMENTS refers to. */
typedef enum ipsec_cs_field {
  IPSEC_CS_FIELD_NONE = 0,
  IPSEC_CS_FIELD_OP = 1,
  IPSEC_CS_FIELD_KEY = 2,    /* null, from another service, or the wrong type for the op */
  IPSEC_CS_FIELD_IV = 3,
  IPSEC_CS_FIELD_AAD = 4,
  IPSEC_CS_FIELD_INPUT = 5,
  IPSEC_CS_FIELD_OUTPUT = 6, /* includes: total output length differs from the input */
  IPSEC_CS_FIELD_TAG = 7
} ipsec_cs_field;

typedef enum ipsec_cs_op {
  IPSEC_CS_OP_SEAL = 0,        /* AES-GCM encrypt in -> out, write tag */
  IPSEC_CS_OP_OPEN = 1,        /* AES-GCM decrypt in -> out, verify tag (constant time) */
  IPSEC_CS_OP_HMAC = 2,        /* HMAC-SHA-256 over in, write tag_len (16 or 32) bytes to tag */
  IPSEC_CS_OP_HMAC_VERIFY = 3  /* HMAC-SHA-256 over in, compare with tag (constant time) */
} ipsec_cs_op;

typedef enum ipsec_cs_key_type {
  IPSEC_CS_KEY_AES_GCM_128 = 0, /* 16-byte key */
  IPSEC_CS_KEY_AES_GCM_256 = 1, /* 32-byte key */
  IPSEC_CS_KEY_HMAC_SHA256 = 2  /* any length (RFC 2104; longer than 64 bytes is hashed) */
} ipsec_cs_key_type;

typedef enum ipsec_cs_provider {
  IPSEC_CS_PROVIDER_AUTO = 0,     /* intel-ipsec-mb when this CPU supports it, else OpenSSL */
  IPSEC_CS_PROVIDER_IPSEC_MB = 1,
  IPSEC_CS_PROVIDER_OPENSSL = 2
} ipsec_cs_provider;

#define IPSEC_CS_F_COMPLETION_FD 0x1u /* give each queue an eventfd (ipsec_cs_fd) */

typedef struct ipsec_cs_config {
  uint32_t num_queues;  /* 1..64 */
  uint32_t queue_depth; /* completions a queue holds before polling: a power of two, 1..65536 */
  uint32_t provider;    /* ipsec_cs_provider */
  uint32_t flags;       /* IPSEC_CS_F_* */
} ipsec_cs_config;

typedef struct ipsec_cs_service ipsec_cs_service;
typedef struct ipsec_cs_key ipsec_cs_key;

/* One scatter-gather segment, like struct iovec. Input segments are only read. */
typedef struct ipsec_cs_seg {
  void* base;
  size_t len;
} ipsec_cs_seg;

/* A job. The service reads it during ipsec_cs_submit only; the buffers it points to must stay valid
 * until the job's completion is delivered. Output may alias the input exactly (in place) but must
 * not overlap it otherwise. */
typedef struct ipsec_cs_job {
  uint32_t op;                /* ipsec_cs_op */
  uint32_t tag_len;           /* 16 for AES-GCM; 16 or 32 for HMAC */
  const ipsec_cs_key* key;
  const uint8_t* iv;          /* IPSEC_CS_IV_SIZE bytes (AES-GCM only) */
  const ipsec_cs_seg* aad;    /* AES-GCM only; may be null when aad_count is 0 */
  const ipsec_cs_seg* in;
  const ipsec_cs_seg* out;    /* AES-GCM only: total length must equal the input's */
  uint8_t* tag;               /* seal/HMAC: written; open/verify: the expected tag */
  uint32_t aad_count;
  uint32_t in_count;
  uint32_t out_count;
  uint32_t reserved;          /* must be 0 */
  uint64_t user_data;         /* returned in the completion */
} ipsec_cs_job;

typedef struct ipsec_cs_completion {
  uint64_t user_data;
  int32_t status;  /* ipsec_cs_status */
  uint32_t field;  /* ipsec_cs_field */
} ipsec_cs_completion;

/* Called by ipsec_cs_dispatch with consecutive completions of one queue, in submission order. */
typedef void (*ipsec_cs_callback)(void* ctx, const ipsec_cs_completion* completions, size_t count);

/* The library's version (IPSEC_CS_VERSION of the build). */
uint32_t ipsec_cs_version(void);
/* Static strings; never null. */
const char* ipsec_cs_strerror(int error);
const char* ipsec_cs_status_name(int32_t status);
const char* ipsec_cs_field_name(uint32_t field);
/* "ipsec-mb", "openssl" or the backend's name. */
const char* ipsec_cs_backend_name(const ipsec_cs_service* service);

/* config may be null for the defaults (1 queue, depth 256, auto provider, no fd). */
int ipsec_cs_create(const ipsec_cs_config* config, ipsec_cs_service** out);
/* Frees the service; pending completions are dropped. Null is ignored. Keys created from it must
 * still be freed with ipsec_cs_key_destroy (before or after this call). */
void ipsec_cs_destroy(ipsec_cs_service* service);

int ipsec_cs_key_create(ipsec_cs_service* service, uint32_t type, const uint8_t* key, size_t key_len,
                        ipsec_cs_key** out);
/* Zeroizes and frees. Null is ignored. */
void ipsec_cs_key_destroy(ipsec_cs_key* key);

/* Submits up to `count` jobs to `queue` with one doorbell; *accepted (required) receives how many
 * were taken, which is fewer than count only when the queue's completion ring is full (poll, then
 * submit the rest). Every accepted job gets exactly one completion, malformed ones included. */
int ipsec_cs_submit(ipsec_cs_service* service, uint32_t queue, const ipsec_cs_job* jobs, size_t count,
                    size_t* accepted);
/* Copies up to `max` completions into `out`; *count (required) receives how many. */
int ipsec_cs_poll(ipsec_cs_service* service, uint32_t queue, ipsec_cs_completion* out, size_t max, size_t* count);
/* Sets (or with a null callback clears) the queue's completion callback. */
int ipsec_cs_set_callback(ipsec_cs_service* service, uint32_t queue, ipsec_cs_callback callback, void* ctx);
/* Hands up to `max` completions to the queue's callback; *count (may be null) receives how many. */
int ipsec_cs_dispatch(ipsec_cs_service* service, uint32_t queue, size_t max, size_t* count);
/* The queue's eventfd (readable while completions are pending; owned by the service), or a
 * negative ipsec_cs_error. Poll or dispatch to clear it. */
int ipsec_cs_fd(const ipsec_cs_service* service, uint32_t queue);

#ifdef __cplusplus
}
#endif

#endif /* IPSEC_ACCEL_CRYPTO_SERVICE_H_ */
