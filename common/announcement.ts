/**
 * A leader's announcement to the gateway: "I lead term T at URL U". Signed with HMAC-SHA256 over
 * the exact body with CLUSTER_SECRET, and stamped with a time so that a captured announcement
 * cannot be replayed later to point the gateway at a stale leader.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { SIGNATURE_HEADER } from './http-headers.js';

export { SIGNATURE_HEADER };

export const ANNOUNCE_PATH = '/cluster/announce';
/** How old (or how far in the future) an announcement may be and still be believed. */
export const ANNOUNCEMENT_MAX_AGE_MS = 30_000;

export const announcementSchema = z.strictObject({
  clusterId: z.string().min(1).max(64),
  nodeId: z.string().min(1).max(64),
  url: z.url({ protocol: /^https?$/ }),
  term: z.number().int().min(1),
  at: z.iso.datetime({ offset: true }),
});
export type Announcement = z.infer<typeof announcementSchema>;

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export type VerifyResult = { ok: true; announcement: Announcement } | { ok: false; reason: string };

export function verifyAnnouncement(
  secret: string,
  clusterId: string,
  body: string,
  signature: string | undefined,
  now: number = Date.now(),
): VerifyResult {
  if (!signature) return { ok: false, reason: `unsigned (no ${SIGNATURE_HEADER} header)` };
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad signature' };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const parsed = announcementSchema.safeParse(json);
  if (!parsed.success)
    return {
      ok: false,
      reason: `malformed: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
    };
  if (parsed.data.clusterId !== clusterId)
    return { ok: false, reason: `wrong cluster ${parsed.data.clusterId}` };
  if (Math.abs(now - Date.parse(parsed.data.at)) > ANNOUNCEMENT_MAX_AGE_MS)
    return { ok: false, reason: 'stale (replayed?)' };
  return { ok: true, announcement: parsed.data };
}
