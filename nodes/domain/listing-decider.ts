/**
 * The listing aggregate: a scraped shop offer whose identity is its url, one stream
 * `listing-<listingStreamId(url)>` per normalized url. Upserts are idempotent: only a real change
 * of title, price, currency or priceEur is an event, so re-scraping an unchanged shop writes nothing.
 */
import { hash } from 'node:crypto';
import type { DomainEvent } from '../../schema/events.js';
import { type ListingInputRaw, listingInput, normalizeUrl } from '../../schema/listing-input.js';
import type { Decider } from './decider.js';
import { DomainError } from './domain-error.js';

export type ListingEvent = Extract<DomainEvent, { type: 'ListingAdded' | 'ListingChanged' }>;

/** The stream id of a listing: the first 32 hex characters of sha256(normalized url). */
export function listingStreamId(url: string): string {
  const normalized = normalizeUrl(url);
  if (normalized === undefined) {
    throw DomainError.badInput('url: must be an absolute http(s) URL', { field: 'url' });
  }
  return hash('sha256', normalized, 'hex').slice(0, 32);
}

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
