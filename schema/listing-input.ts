/**
 * One listing as the scraper, an upload or the API sends it: `{ title, url, price, currency,
 * priceEur, scrapedAt }`. The nodes' listing decider, the queue contract and the listings file all
 * validate with this one schema, so it lives here, below every process that speaks it.
 */
import { z } from 'zod';
import { charCount } from '../common/char-count.js';

/** Zod 4 error callback: "is required" for a missing field, `message` for a wrong type. */
const typed = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : message;

/**
 * The url as identity: scheme and host lowercased, default port and fragment dropped (the
 * fragment never reaches the shop), the rest as WHATWG URL serializes it. Query order is kept:
 * it may matter to the shop. Returns undefined for anything but an absolute http(s) url.
 */
export function normalizeUrl(url: string): string | undefined {
  const parsed = URL.parse(url);
  if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) return undefined;
  // Setting the fragment re-serializes the url: only when there is one (even an empty one).
  if (url.includes('#')) parsed.hash = '';
  return parsed.href;
}

// z.number() already refuses NaN and ±Infinity; say so rather than "must be a number".
const amount = () =>
  z
    .number({
      error: (issue) =>
        issue.input === undefined
          ? 'is required'
          : typeof issue.input === 'number'
            ? 'must be a finite number'
            : 'must be a number',
    })
    .min(0, { message: 'must be ≥ 0' });

/** One listing as it comes from the scraper, an upload or the API; the url comes out normalized. */
export const listingInput = z.object({
  title: z
    .string({ error: typed('must be text') })
    .trim()
    .refine((t) => t.length > 0, { message: 'must not be empty', abort: true })
    .refine((t) => charCount(t) <= 500, { message: 'must be at most 500 characters' }),
  url: z
    .string({ error: typed('must be text') })
    .max(2000, { message: 'must be at most 2000 characters' })
    .transform((url, ctx) => {
      const normalized = normalizeUrl(url.trim());
      if (normalized === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be an absolute http(s) URL' });
        return z.NEVER;
      }
      return normalized;
    }),
  price: amount(),
  currency: z
    .string({ error: typed('must be text') })
    .regex(/^[A-Z]{3}$/, { message: 'must be 3 uppercase letters (an ISO 4217 code such as EUR)' }),
  priceEur: amount(),
  scrapedAt: z.string({ error: typed('must be text') }).pipe(
    z.iso.datetime({
      offset: true,
      message: 'must be an ISO 8601 date-time with a UTC offset, such as 2025-01-31T12:00:00Z',
    }),
  ),
});

/** What callers send (url not yet normalized). */
export type ListingInputRaw = z.input<typeof listingInput>;
/** A validated listing (title trimmed, url normalized). */
export type ListingInput = z.output<typeof listingInput>;
