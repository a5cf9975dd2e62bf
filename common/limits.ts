/** Limits that are part of the external contract, in one place for every process that enforces them. */

/**
 * The longest idempotency key a client may give, as the `Idempotency-Key` header or as an
 * `idempotencyKey`/`idempotencyKeys` argument (checked by the API, api/resolvers.ts).
 */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 160;
