/**
 * The listing aggregate: a scraped shop offer whose identity is its url, one stream
 * `listing-<listingStreamId(url)>` per normalized url. Upserts are idempotent: only a real change
 * of title, price, currency or priceEur is an event, so re-scraping an unchanged shop writes nothing.
 */
import { hash } from 'node:crypto';
import { z } from 'zod';
import type { DomainEvent } from '../../schema/events.js';
import type { Decider } from './decider.js';
import { charCount, DomainError } from './domain-error.js';

export type ListingEvent = Extract<DomainEvent, { type: 'ListingAdded' | 'ListingChanged' }>;

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

/** The stream id of a listing: the first 32 hex characters of sha256(normalized url). */
export function listingStreamId(url: string): string {
  const normalized = normalizeUrl(url);
  if (normalized === undefined) {
    throw DomainError.badInput('url: must be an absolute http(s) URL', { field: 'url' });
  }
  return hash('sha256', normalized, 'hex').slice(0, 32);
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

export interface Listing {
  readonly url: string;
  readonly title: string;
  readonly price: number;
  readonly currency: string;
  readonly priceEur: number;
  /** When the current values were first seen. */
  readonly scrapedAt: string;
}

export interface ListingState {
  readonly exists: boolean;
  readonly version: number;
  readonly listing?: Listing;
}

export interface UpsertListing extends ListingInputRaw {
  readonly type: 'UpsertListing';
}

export type ListingCommand = UpsertListing;

export const initialListingState: ListingState = { exists: false, version: 0 };

const CHANGEABLE = ['title', 'price', 'currency', 'priceEur'] as const;

/**
 * New url → ListingAdded; changed title/price/currency/priceEur → ListingChanged with only those;
 * otherwise nothing. An observation scraped strictly before the current values were seen is stale
 * and ignored, so a late or replayed import cannot roll a price back.
 */
export function decideListing(command: ListingCommand, state: ListingState): ListingEvent[] {
  const { type: _type, ...raw } = command;
  const parsed = listingInput.safeParse(raw);
  if (!parsed.success) throw DomainError.fromZod(parsed.error);
  const input = parsed.data;
  const current = state.listing;
  if (!state.exists || !current) return [{ type: 'ListingAdded', data: { ...input } }];
  // A mismatch means the caller folded the wrong stream: a bug, not a user error.
  if (current.url !== input.url) {
    throw new Error(`listing-decider: command for ${input.url} given the state of ${current.url}`);
  }
  if (Date.parse(input.scrapedAt) < Date.parse(current.scrapedAt)) return [];
  const changes: { title?: string; price?: number; currency?: string; priceEur?: number } = {};
  for (const field of CHANGEABLE) {
    if (input[field] !== current[field]) Object.assign(changes, { [field]: input[field] });
  }
  if (Object.keys(changes).length === 0) return [];
  return [{ type: 'ListingChanged', data: { url: input.url, ...changes, scrapedAt: input.scrapedAt } }];
}

export function evolveListing(state: ListingState, event: ListingEvent): ListingState {
  const version = state.version + 1;
  switch (event.type) {
    case 'ListingAdded':
      return { exists: true, version, listing: { ...event.data } };
    case 'ListingChanged': {
      if (!state.listing) return { ...state, version };
      const { url: _url, ...changes } = event.data;
      const listing: Listing = {
        ...state.listing,
        ...(changes.title !== undefined && { title: changes.title }),
        ...(changes.price !== undefined && { price: changes.price }),
        ...(changes.currency !== undefined && { currency: changes.currency }),
        ...(changes.priceEur !== undefined && { priceEur: changes.priceEur }),
        scrapedAt: changes.scrapedAt,
      };
      return { ...state, version, listing };
    }
  }
}

export const listingDecider: Decider<ListingCommand, ListingEvent, ListingState> = {
  decide: decideListing,
  evolve: evolveListing,
  initialState: initialListingState,
  eventTypes: ['ListingAdded', 'ListingChanged'],
};
