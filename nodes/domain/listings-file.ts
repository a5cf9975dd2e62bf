/**
 * The listings file that arrives over FTP or as an upload: UTF-8 JSON, an array of
 * `{ title, url, price, currency, priceEur, scrapedAt }`. All or nothing: the first problem
 * rejects the whole file, so a half-imported file never exists. Unknown keys in an item are ignored.
 *
 * Duplicated urls (after normalization) in one file: the last occurrence wins, since a file is
 * written top to bottom and a later line is the later correction. The result keeps file order
 * of the winning items.
 */
import { type ListingInput, listingInput } from '../../schema/listing-input.js';
import { DomainError } from './domain-error.js';

export const MAX_LISTINGS_PER_FILE = 100_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseListingsFile(bytes: Uint8Array): ListingInput[] {
  let text: string;
  try {
    text = utf8.decode(bytes); // a leading BOM is dropped by the decoder
  } catch {
    throw DomainError.badInput('the file is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw DomainError.badInput(`the file is not valid JSON: ${reason}`);
  }
  if (!Array.isArray(json)) throw DomainError.badInput('the file must be a JSON array of listings');
  if (json.length > MAX_LISTINGS_PER_FILE) {
    throw DomainError.badInput(
      `the file has ${json.length} listings; at most ${MAX_LISTINGS_PER_FILE} are accepted per file`,
      { count: json.length, max: MAX_LISTINGS_PER_FILE },
    );
  }
  const byUrl = new Map<string, ListingInput>();
  for (const [index, item] of json.entries()) {
    // Items are numbered from 0, as in the JSON array.
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw DomainError.badInput(`item ${index}: must be an object`, { index });
    }
    const parsed = listingInput.safeParse(item);
    if (!parsed.success) throw DomainError.fromZod(parsed.error, `item ${index}: `, { index });
    byUrl.delete(parsed.data.url); // re-insert so the winner sits where it last appeared
    byUrl.set(parsed.data.url, parsed.data);
  }
  return [...byUrl.values()];
}
