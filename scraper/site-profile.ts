/**
 * A site profile says where a shop keeps its listings: CSS selectors for the listing page's cards,
 * their links, titles and prices, the next-page link, the detail page's title and price, and how
 * the shop writes prices. The demo shop's is the default; a real shop is a JSON file of this shape
 * (see the README), passed with --profile.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { httpUrl } from '../common/config.js';

const selector = z.string().trim().min(1, { message: 'must be a CSS selector' });
const currencyCode = z.string().regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code such as MDL' });

export const siteProfileSchema = z.strictObject({
  name: z.string().min(1),
  /** The first listing page, used when --url is not given. */
  startUrl: httpUrl,
  listing: z.strictObject({
    /** One element per product card. */
    item: selector,
    /** Within a card: the link to the detail page (its href). */
    link: selector,
    /** Within a card: the title, used when the detail page has none. */
    title: selector.optional(),
    /** Within a card: the price, used when the detail page has none or there is no detail page. */
    price: selector.optional(),
    /** The link to the next listing page (its href). */
    nextPage: selector.optional(),
  }),
  /** Read each card's detail page; what it finds there wins over the card. */
  detail: z
    .strictObject({
      title: selector.optional(),
      price: selector.optional(),
    })
    .optional(),
  price: z
    .strictObject({
      decimalSeparator: z.enum(['auto', ',', '.']).default('auto'),
      defaultCurrency: currencyCode.optional(),
      currencies: z.record(z.string().min(1), currencyCode).default({}),
    })
    .default({ decimalSeparator: 'auto', currencies: {} }),
});

export type SiteProfile = z.output<typeof siteProfileSchema>;

export class ProfileError extends Error {}

/** Read and check a profile file; a bad one is a ProfileError naming the field. */
export function loadSiteProfile(path: string): SiteProfile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ProfileError(`${path}: ${(error as Error).message}`);
  }
  const result = siteProfileSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ProfileError(`${path}: ${issue?.path.join('.') || 'profile'}: ${issue?.message ?? 'invalid'}`);
}
