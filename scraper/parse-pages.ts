/**
 * Reads a shop's pages with cheerio, by the site profile's selectors: a listing page gives its
 * product cards and the next page's URL, a detail page its title and price text. Broken markup is
 * the HTML parser's to repair, as a browser would; text comes out with its white space folded.
 */
import * as cheerio from 'cheerio';
import type { SiteProfile } from './site-profile.js';

export interface ListingCard {
  /** The detail page's absolute URL. */
  readonly url: string;
  readonly title?: string;
  readonly priceText?: string;
}

export interface ListingPage {
  readonly cards: ListingCard[];
  readonly nextUrl?: string;
}

export interface DetailPage {
  readonly title?: string;
  readonly priceText?: string;
}

/** Text with its white space folded; undefined when there is none. */
function folded(text: string): string | undefined {
  return text.replace(/\s+/gu, ' ').trim() || undefined;
}

/** An href made absolute against the page; undefined for none or a non-http(s) one. */
function absolute(href: string | undefined, pageUrl: string): string | undefined {
  if (!href || !URL.canParse(href.trim(), pageUrl)) return undefined;
  const url = new URL(href.trim(), pageUrl);
  url.hash = '';
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
}

export function parseListingPage(html: string, pageUrl: string, profile: SiteProfile): ListingPage {
  const $ = cheerio.load(html);
  const { listing } = profile;
  const cards: ListingCard[] = [];
  $(listing.item).each((_, element) => {
    const card = $(element);
    const url = absolute(card.find(listing.link).first().attr('href'), pageUrl);
    if (url === undefined) return;
    cards.push({
      url,
      title: listing.title ? folded(card.find(listing.title).first().text()) : undefined,
      priceText: listing.price ? folded(card.find(listing.price).first().text()) : undefined,
    });
  });
  const nextUrl = listing.nextPage ? absolute($(listing.nextPage).first().attr('href'), pageUrl) : undefined;
  return { cards, nextUrl };
}

export function parseDetailPage(html: string, profile: SiteProfile): DetailPage {
  const $ = cheerio.load(html);
  const detail = profile.detail ?? {};
  return {
    title: detail.title ? folded($(detail.title).first().text()) : undefined,
    priceText: detail.price ? folded($(detail.price).first().text()) : undefined,
  };
}
