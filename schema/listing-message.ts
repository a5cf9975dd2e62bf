/**
 * One listing on the `listings` queue and in the FTP file: `{ title, url, price, currency,
 * priceEur, scrapedAt }`. The scraper validates what it sends and the gateway what it receives with
 * this one schema, which is the listing input the nodes accept for upsertListing, so a message that
 * passes here is one the leader will take.
 */
import { type ListingInput, type ListingInputRaw, listingInput } from './listing-input.js';

export const listingMessage = listingInput;
/** The message as sent (JSON). */
export type ListingMessage = ListingInputRaw;
/** The message as validated: title trimmed, url normalized. */
export type ValidListingMessage = ListingInput;

/** The JSON array written to `/listings/latest.json`. */
export const listingFile = listingMessage.array();
