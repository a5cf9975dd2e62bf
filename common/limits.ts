/**
 * The size limits the processes share: the nodes enforce them, the gateway applies the same ones
 * before it forwards a request, and the fuzzers probe just past them.
 */

/** A GraphQL request sent as JSON: operations only, files come as multipart. */
export const MAX_JSON_BYTES = 1024 * 1024;

/** An upload's limit when MAX_UPLOAD_BYTES is not set. */
export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

/** Requests in one of the gateway's batches at most; it sends more as several batches. */
export const MAX_BATCH = 64;
/** Request bodies in one batch at most (each is ≤ MAX_JSON_BYTES): more are sent as several batches. */
export const MAX_BATCH_BODY_BYTES = MAX_JSON_BYTES;
/** What a batch may be on the wire: its bodies, plus frames and headers (≤ 2 KiB a request). */
export const MAX_BATCH_BYTES = MAX_BATCH_BODY_BYTES + MAX_BATCH * 2048;

/** A leader's announcement to the gateway (a few short fields). */
export const MAX_ANNOUNCEMENT_BYTES = 16 * 1024;

/**
 * The longest idempotency key the log stores, and so the longest `idempotencyKey` /
 * `idempotencyKeys` argument a client may give (checked once, by the API: api/resolvers.ts).
 */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/**
 * The longest `Idempotency-Key` header: each mutation field of the request stores it as
 * `<header>:<field's response key>`, so it leaves room for a field name within
 * MAX_IDEMPOTENCY_KEY_LENGTH (a longer alias is refused as bad input, not stored).
 */
export const MAX_IDEMPOTENCY_HEADER_LENGTH = 160;
