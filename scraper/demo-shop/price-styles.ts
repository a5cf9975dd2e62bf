/**
 * Writes a price the way the demo shop's item says it is written: the formats people use in
 * Moldova ("12 500 lei", "1.899,00 MDL", "7 999 MDL", "€549.99", "649,00 €"), as HTML.
 */
import type { PriceStyle } from './catalogue.js';

/** The rate the shop uses for its own "≈ … €" hints; unrelated to the scraper's rate. */
const SHOP_MDL_PER_EUR = 19.5;

function grouped(whole: number, separator: string): string {
  return String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, separator);
}

function parts(amount: number): { whole: number; cents: string } {
  const totalCents = Math.round(amount * 100);
  return { whole: Math.floor(totalCents / 100), cents: String(totalCents % 100).padStart(2, '0') };
}

/** "12 500" for whole amounts, "1 249,50" otherwise. */
function spaced(amount: number, separator = ' '): string {
  const { whole, cents } = parts(amount);
  return cents === '00' ? grouped(whole, separator) : `${grouped(whole, separator)},${cents}`;
}

export function priceHtml(amount: number, style: PriceStyle): string {
  const { whole, cents } = parts(amount);
  switch (style) {
    case 'lei':
      return `${spaced(amount)} lei`;
    case 'lei-nbsp':
      return `${spaced(amount, '&nbsp;')} lei`;
    case 'lei-sup':
      return `${grouped(whole, ' ')}<sup>,${cents}</sup> lei`;
    case 'lei-from':
      return `de la ${spaced(amount)} lei`;
    case 'lei-with-eur':
      return `${spaced(amount)} lei <small>(≈ ${Math.round(amount / SHOP_MDL_PER_EUR)} €)</small>`;
    case 'mdl':
      return `${spaced(amount)} MDL`;
    case 'mdl-european':
      return `${grouped(whole, '.')},${cents} MDL`;
    case 'eur-symbol':
      return `€${grouped(whole, ',')}.${cents}`;
    case 'eur-suffix':
      return `${grouped(whole, ' ')},${cents} €`;
    case 'eur-code':
      return `EUR ${grouped(whole, ',')}.${cents}`;
  }
}
