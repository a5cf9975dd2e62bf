/**
 * `Authorization: Bearer <API_TOKEN>`, checked in constant time. Mutations need it, on the nodes
 * and at the gateway alike.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

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

export function refusalOf(result: Exclude<AuthResult, 'ok'>): string {
  return refusals[result];
}
