/**
 * What the scraper does with what it found. Map: read the price, convert it to euros, stamp the
 * time, giving the queue's listing message. Filter: keep the listings whose priceEur is within
 * --min-price..--max-price (inclusive, like the listings query). Reduce: count, total and average
 * per currency, and in euros over all, for the summary printed at the end. Every item that does
 * not become a listing is kept with the reason, so the summary can say what was dropped and why.
 */
import { type ListingMessage, listingMessage } from '../schema/listing-message.js';
import type { CrawledItem } from './crawl.js';
import { type PriceFormat, parsePrice } from './price.js';

export type DropReason =
  | 'unreadable page'
  | 'no title'
  | 'no price'
  | 'unknown currency'
  | 'invalid listing'
  | 'below --min-price'
  | 'above --max-price';

export interface Dropped {
  readonly url: string;
  readonly reason: DropReason;
  readonly detail?: string;
}

export interface MapOptions {
  readonly priceFormat: PriceFormat;
  /** Units of each currency per euro, such as { MDL: 19.5 }; EUR is 1. */
  readonly perEur: Readonly<Record<string, number>>;
  /** The scrape's time, UTC ISO 8601. */
  readonly scrapedAt: string;
}

const cents = (n: number) => Math.round(n * 100) / 100;

export function mapListing(
  item: CrawledItem,
  options: MapOptions,
): { listing: ListingMessage } | { dropped: Dropped } {
  const drop = (reason: DropReason, detail?: string) => ({ dropped: { url: item.url, reason, detail } });
  if (item.error !== undefined) return drop('unreadable page', item.error);
  if (!item.title) return drop('no title');
  const price = item.priceText === undefined ? undefined : parsePrice(item.priceText, options.priceFormat);
  if (price === undefined) return drop('no price', item.priceText);
  const rate = price.currency === 'EUR' ? 1 : options.perEur[price.currency];
  if (rate === undefined) return drop('unknown currency', price.currency);
  const listing: ListingMessage = {
    title: item.title,
    url: item.url,
    price: price.amount,
    currency: price.currency,
    priceEur: cents(price.amount / rate),
    scrapedAt: options.scrapedAt,
  };
  const valid = listingMessage.safeParse(listing);
  if (!valid.success) {
    const issue = valid.error.issues[0];
    return drop('invalid listing', `${issue?.path.join('.')}: ${issue?.message}`);
  }
  return { listing };
}

export interface PriceRange {
  readonly minPriceEur?: number;
  readonly maxPriceEur?: number;
}

export function filterListings(
  listings: readonly ListingMessage[],
  range: PriceRange,
): { kept: ListingMessage[]; dropped: Dropped[] } {
  const kept: ListingMessage[] = [];
  const dropped: Dropped[] = [];
  for (const listing of listings) {
    if (range.minPriceEur !== undefined && listing.priceEur < range.minPriceEur) {
      dropped.push({ url: listing.url, reason: 'below --min-price', detail: `${listing.priceEur} EUR` });
    } else if (range.maxPriceEur !== undefined && listing.priceEur > range.maxPriceEur) {
      dropped.push({ url: listing.url, reason: 'above --max-price', detail: `${listing.priceEur} EUR` });
    } else {
      kept.push(listing);
    }
  }
  return { kept, dropped };
}

export interface CurrencyTotals {
  readonly currency: string;
  readonly count: number;
  readonly total: number;
  readonly average: number;
}

export interface Summary {
  readonly count: number;
  /** Per currency as scraped, by currency code. */
  readonly perCurrency: CurrencyTotals[];
  /** Every listing, in euros. */
  readonly eur: CurrencyTotals;
  readonly dropped: Partial<Record<DropReason, number>>;
}

export function summarise(listings: readonly ListingMessage[], dropped: readonly Dropped[] = []): Summary {
  const sums = listings.reduce((acc, l) => {
    const entry = acc.get(l.currency) ?? { count: 0, total: 0 };
    acc.set(l.currency, { count: entry.count + 1, total: entry.total + l.price });
    return acc;
  }, new Map<string, { count: number; total: number }>());
  const totals = (currency: string, count: number, total: number): CurrencyTotals => ({
    currency,
    count,
    total: cents(total),
    average: count === 0 ? 0 : cents(total / count),
  });
  return {
    count: listings.length,
    perCurrency: [...sums.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([currency, s]) => totals(currency, s.count, s.total)),
    eur: totals(
      'EUR',
      listings.length,
      listings.reduce((sum, l) => sum + l.priceEur, 0),
    ),
    dropped: dropped.reduce<Partial<Record<DropReason, number>>>((acc, d) => {
      acc[d.reason] = (acc[d.reason] ?? 0) + 1;
      return acc;
    }, {}),
  };
}

const money = (n: number) =>
  n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).replaceAll(',', ' ');

/** The summary as the lines printed at the end of a scrape. */
export function formatSummary(summary: Summary): string {
  const droppedCount = Object.values(summary.dropped).reduce((a, b) => a + (b ?? 0), 0);
  const why = Object.entries(summary.dropped)
    .map(([reason, n]) => `${reason}: ${n}`)
    .join(', ');
  const row = (label: string, t: CurrencyTotals, unit = '') =>
    `  ${label.padEnd(4)} ${String(t.count).padStart(4)} listings  total ${money(t.total).padStart(14)}${unit}  average ${money(t.average).padStart(12)}${unit}`;
  return [
    `${summary.count} listings, ${droppedCount} dropped${droppedCount > 0 ? ` (${why})` : ''}`,
    ...summary.perCurrency.map((t) => row(t.currency, t)),
    row('all', summary.eur, ' EUR'),
  ].join('\n');
}
