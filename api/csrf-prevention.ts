/**
 * Apollo's CSRF prevention, as the nodes configure it and as the gateway's proxy applies it
 * before it forwards an upload itself (Apollo does not export its check): a request of a type a
 * browser may send without a preflight — a multipart upload — runs only with one of
 * CSRF_PREVENTION_HEADERS, non-empty. Both read the one list, so they cannot drift apart.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { CSRF_PREVENTION_HEADERS } from '../common/http-headers.js';

/** Apollo Server's `csrfPrevention` option. */
export const csrfPrevention = { requestHeaders: [...CSRF_PREVENTION_HEADERS] };

/** Whether a request passes Apollo's check whatever its content type (its rule: a header, non-empty). */
export function preflighted(headers: IncomingHttpHeaders): boolean {
  return CSRF_PREVENTION_HEADERS.some((name) => (headers[name]?.length ?? 0) > 0);
}
