/**
 * Mutations need `Authorization: Bearer <API_TOKEN>`; queries and subscriptions don't. The header
 * is checked once per request (into the context) and enforced by `@Authorized()` on mutations.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthChecker } from 'type-graphql';
import type { GraphqlContext } from './context.js';
import { ApiError } from './errors.js';

export type AuthResult = 'ok' | 'missing' | 'malformed' | 'wrong';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Checks an Authorization header value against the API token, in constant time. */
export function checkBearer(header: string | undefined | null, apiToken: string): AuthResult {
  if (header === undefined || header === null || header.trim() === '') return 'missing';
  const token = BEARER.exec(header)?.[1];
  if (token === undefined) return 'malformed';
  // Hashing first makes both sides equal-length, so the compare leaks neither content nor length.
  const given = createHash('sha256').update(token).digest();
  const expected = createHash('sha256').update(apiToken).digest();
  return timingSafeEqual(given, expected) ? 'ok' : 'wrong';
}

const refusals: Record<Exclude<AuthResult, 'ok'>, string> = {
  missing: 'this operation needs the header `Authorization: Bearer <API_TOKEN>`',
  malformed: 'the Authorization header must be `Bearer <API_TOKEN>`',
  wrong: 'the API token is wrong',
};

/** type-graphql authChecker: throws UNAUTHENTICATED with the reason instead of a generic denial. */
export const authChecker: AuthChecker<GraphqlContext> = ({ context }) => {
  if (context.auth === 'ok') return true;
  throw ApiError.unauthenticated(refusals[context.auth]);
};
