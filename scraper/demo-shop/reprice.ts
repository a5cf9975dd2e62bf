/**
 * New prices for the demo shop, so that a re-scrape has changes to find. The same seed gives the
 * same prices; every priced item moves by 3–15 % up or down and ends the way shops like it to
 * (…9 lei, ….99 €).
 */
import type { CatalogueItem } from './catalogue.js';

export interface PriceChange {
  readonly slug: string;
  readonly currency: 'MDL' | 'EUR';
  readonly before: number;
  readonly after: number;
}

/** mulberry32 over an FNV-1a hash of the seed: small, fast and deterministic. */
function randomFrom(seed: string): () => number {
  let state = 0x811c9dc5;
  for (const char of seed) state = Math.imul(state ^ (char.codePointAt(0) ?? 0), 0x01000193);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shopRounded(amount: number, currency: 'MDL' | 'EUR'): number {
  if (currency === 'EUR') return Math.max(0.99, Math.round(amount) - 0.01);
  return amount >= 100 ? Math.round(amount / 10) * 10 - 1 : Math.round(amount);
}

export function reprice(
  items: readonly CatalogueItem[],
  seed: string,
): { items: CatalogueItem[]; changes: PriceChange[] } {
  const random = randomFrom(seed);
  const changes: PriceChange[] = [];
  const repriced = items.map((item) => {
    if (item.price === null) return item;
    const direction = random() < 0.5 ? -1 : 1;
    const factor = 1 + direction * (0.03 + random() * 0.12);
    let after = shopRounded(item.price * factor, item.currency);
    if (after === item.price) after += item.currency === 'EUR' ? 1 : 10;
    changes.push({ slug: item.slug, currency: item.currency, before: item.price, after });
    // A former price lower than the new one would not be shown as a discount.
    const { oldPrice, ...rest } = item;
    return oldPrice !== undefined && oldPrice > after
      ? { ...rest, oldPrice, price: after }
      : { ...rest, price: after };
  });
  return { items: repriced, changes };
}
