/**
 * Walks a shop by its site profile: the listing pages one after another along the next-page link,
 * up to a page limit, then every card's detail page, a few at a time. A listing page that cannot
 * be read fails the crawl (the catalogue would be incomplete without a word); a detail page that
 * cannot be read only loses its item, which is reported.
 */
import { mapWithConcurrency } from './concurrency.js';
import { type FetchPolicy, fetchPage } from './fetch-page.js';
import { type ListingCard, parseDetailPage, parseListingPage } from './parse-pages.js';
import type { SiteProfile } from './site-profile.js';

/** One product as found: what the pages say, not yet read as a listing. */
export interface CrawledItem {
  readonly url: string;
  readonly title?: string;
  readonly priceText?: string;
  /** Why its detail page could not be read. */
  readonly error?: string;
}

export interface CrawlProgress {
  /** Pages fetched so far. */
  readonly done: number;
  /** Pages known so far, fetched or to fetch. */
  readonly total: number;
}

export interface CrawlOptions {
  readonly startUrl: string;
  readonly profile: SiteProfile;
  readonly maxPages: number;
  readonly concurrency: number;
  readonly fetchPolicy: FetchPolicy;
  readonly signal?: AbortSignal;
  onProgress?(progress: CrawlProgress): void;
  onRetry?(url: string, error: unknown, failedAttempt: number, delayMs: number): void;
}

export interface CrawlResult {
  readonly items: CrawledItem[];
  readonly listingPages: number;
  readonly detailPages: number;
}

export async function crawl(options: CrawlOptions): Promise<CrawlResult> {
  const { profile, signal } = options;
  const fetchOne = (url: string) =>
    fetchPage(url, options.fetchPolicy, {
      signal,
      onRetry: (error, attempt, delay) => options.onRetry?.(url, error, attempt, delay),
    });
  const cards = new Map<string, ListingCard>();
  const visited = new Set<string>();
  let done = 0;
  let pending = 1;
  const report = () => options.onProgress?.({ done, total: done + pending });

  report();
  let pageUrl: string | undefined = options.startUrl;
  while (pageUrl !== undefined && visited.size < options.maxPages && !visited.has(pageUrl)) {
    visited.add(pageUrl);
    const fetched = await fetchOne(pageUrl);
    const page = parseListingPage(fetched.html, fetched.url, profile);
    // A product shown on two pages is one item.
    for (const card of page.cards) if (!cards.has(card.url)) cards.set(card.url, card);
    pageUrl = page.nextUrl;
    const more = pageUrl !== undefined && visited.size < options.maxPages && !visited.has(pageUrl);
    done += 1;
    pending = (more ? 1 : 0) + (profile.detail ? cards.size : 0);
    report();
  }

  const found = [...cards.values()];
  if (!profile.detail) return { items: found, listingPages: visited.size, detailPages: 0 };
  const items = await mapWithConcurrency(found, options.concurrency, async (card): Promise<CrawledItem> => {
    try {
      const detail = parseDetailPage((await fetchOne(card.url)).html, profile);
      return {
        url: card.url,
        title: detail.title ?? card.title,
        priceText: detail.priceText ?? card.priceText,
      };
    } catch (error) {
      if (signal?.aborted) throw error;
      return { url: card.url, title: card.title, error: (error as Error).message };
    } finally {
      done += 1;
      pending -= 1;
      report();
    }
  });
  return { items, listingPages: visited.size, detailPages: found.length };
}
