/**
 * One scrape of a shop, without side effects: crawl, then map, filter and reduce. What is done
 * with the listings (the queue, the file, FTP) is the round's business (scrape-round.ts).
 */
import type { ListingMessage } from '../schema/listing-message.js';
import { type CrawlOptions, crawl } from './crawl.js';
import {
  type Dropped,
  filterListings,
  mapListing,
  type PriceRange,
  type Summary,
  summarise,
} from './listing-pipeline.js';

export interface ScrapeShopOptions extends CrawlOptions {
  readonly range: PriceRange;
  /** Units of each currency per euro, such as { MDL: 19.5 }. */
  readonly perEur: Readonly<Record<string, number>>;
  /** The time stamped on every listing (default: now). */
  readonly now?: Date;
}

export interface ScrapeResult {
  readonly listings: ListingMessage[];
  readonly dropped: Dropped[];
  readonly summary: Summary;
  readonly listingPages: number;
  readonly detailPages: number;
}

export async function scrapeShop(options: ScrapeShopOptions): Promise<ScrapeResult> {
  const crawled = await crawl(options);
  const scrapedAt = (options.now ?? new Date()).toISOString();
  const mapped: ListingMessage[] = [];
  const dropped: Dropped[] = [];
  for (const item of crawled.items) {
    const result = mapListing(item, {
      priceFormat: options.profile.price,
      perEur: options.perEur,
      scrapedAt,
    });
    if ('listing' in result) mapped.push(result.listing);
    else dropped.push(result.dropped);
  }
  const filtered = filterListings(mapped, options.range);
  dropped.push(...filtered.dropped);
  return {
    listings: filtered.kept,
    dropped,
    summary: summarise(filtered.kept, dropped),
    listingPages: crawled.listingPages,
    detailPages: crawled.detailPages,
  };
}
