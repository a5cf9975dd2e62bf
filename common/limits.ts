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
