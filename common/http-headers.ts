/**
 * The HTTP headers the processes (and their clients) exchange, named once: the gateway, the
 * nodes, the IDE page and the test tools all take them from here.
 */

/** A write's idempotency key: the client's, or one the gateway makes for a write it forwards. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** HMAC-SHA256 of the body with CLUSTER_SECRET: a leader's announcements and the gateway's batches. */
export const SIGNATURE_HEADER = 'x-ensemble-signature';

/** The header a client sends to pass Apollo's CSRF prevention (any non-empty value). */
export const PREFLIGHT_HEADER = 'apollo-require-preflight';

/**
 * Apollo's CSRF prevention: a request of a type a browser may send without a preflight (a
 * multipart upload) runs only with one of these headers, non-empty (Apollo's recommended list).
 */
export const CSRF_PREVENTION_HEADERS: readonly string[] = ['x-apollo-operation-name', PREFLIGHT_HEADER];

/** What a forwarded upload carries so that the node's CSRF prevention lets it through. */
export const PREFLIGHTED: Readonly<Record<string, string>> = { [PREFLIGHT_HEADER]: 'true' };

/** W3C Trace Context: the caller's trace and span, carried on forwarded requests and in batches. */
export const TRACEPARENT_HEADER = 'traceparent';

/** W3C Trace Context: vendor data that travels with `traceparent`. */
export const TRACESTATE_HEADER = 'tracestate';

/**
 * A rehearsal of a write (nodes/rehearsal/write-rehearsal.ts), run through every layer of the
 * write path and refused before anything is stored. Its value is the request's rehearsal mark
 * (./rehearsal-mark.ts); any other value is ignored.
 */
export const REHEARSAL_HEADER = 'x-ensemble-rehearsal';
