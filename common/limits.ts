/** Limits that are part of the external contract, in one place for every process that enforces them. */

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
