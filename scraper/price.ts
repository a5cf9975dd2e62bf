/**
 * Reads a price as people write it — "12 500 lei", "1.299,00 MDL", "7 999 MDL", "€549.99",
 * "649,00 €", "de la 9 499 lei" — into an amount and an ISO currency code. The first number in the
 * text is the price; its currency is the first currency word or sign after it, else the last
 * before it, else the site's default.
 */

export interface PriceFormat {
  /**
   * The decimal separator. "auto": of "." and ",", the last one is decimal when both appear; a
   * lone one is a thousands separator when exactly three digits follow it, a decimal otherwise.
   */
  readonly decimalSeparator: 'auto' | ',' | '.';
  /** The currency of a price that names none; without one such a price is not read. */
  readonly defaultCurrency?: string;
  /** Extra currency words and signs (any case) → ISO code, on top of the common ones. */
  readonly currencies?: Readonly<Record<string, string>>;
}

export interface Price {
  readonly amount: number;
  readonly currency: string;
}

/** The currency words and signs of Moldovan shops, lower case. */
export const COMMON_CURRENCIES: Readonly<Record<string, string>> = {
  lei: 'MDL',
  leu: 'MDL',
  mdl: 'MDL',
  '€': 'EUR',
  eur: 'EUR',
  euro: 'EUR',
  $: 'USD',
  usd: 'USD',
};

export const autoPriceFormat: PriceFormat = { decimalSeparator: 'auto' };

// Digits in groups of three (separated by a space, dot, comma or apostrophe, one kind throughout)
// with optional decimals, or plain digits with optional decimals.
const NUMBER = /\d{1,3}(?:([ .,'’])\d{3})(?:\1\d{3})*(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d+)?(?!\d)/u;

/** Of "." and ",", the one that is the decimal separator in this number, if either is. */
function guessDecimal(compact: string): '.' | ',' | undefined {
  const last = Math.max(compact.lastIndexOf('.'), compact.lastIndexOf(','));
  if (last < 0) return undefined;
  const char = compact.charAt(last) as '.' | ',';
  if (compact.includes(char === '.' ? ',' : '.')) return char; // both kinds: the last is decimal
  if (compact.indexOf(char) !== last) return undefined; // the same one twice: thousands
  return compact.length - last - 1 === 3 ? undefined : char; // "1,299" is thousands, "1,29" is not
}

function amountOf(token: string, decimalSeparator: PriceFormat['decimalSeparator']): number | undefined {
  const compact = token.replace(/[ '’]/gu, '');
  const decimal = decimalSeparator === 'auto' ? guessDecimal(compact) : decimalSeparator;
  const [whole = '', fraction, ...rest] = decimal === undefined ? [compact] : compact.split(decimal);
  const digits = whole.replace(/[.,]/g, '');
  if (rest.length > 0 || !/^\d+$/.test(digits) || (fraction !== undefined && !/^\d+$/.test(fraction))) {
    return undefined;
  }
  return Number(fraction === undefined ? digits : `${digits}.${fraction}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every currency word or sign in the text, with where it stands. */
function currenciesIn(text: string, table: Readonly<Record<string, string>>): { at: number; code: string }[] {
  const found: { at: number; code: string }[] = [];
  for (const [word, code] of Object.entries(table)) {
    // A word must stand alone ("lei", not "Leipzig"); a sign may touch the digits ("€549").
    const pattern = /\p{L}/u.test(word)
      ? new RegExp(`(?<!\\p{L})${escapeRegExp(word)}(?!\\p{L})`, 'giu')
      : new RegExp(escapeRegExp(word), 'gu');
    for (const match of text.matchAll(pattern)) found.push({ at: match.index, code });
  }
  return found.sort((a, b) => a.at - b.at);
}

export function parsePrice(text: string, format: PriceFormat = autoPriceFormat): Price | undefined {
  const flat = text.replace(/\s+/gu, ' ');
  const number = NUMBER.exec(flat);
  if (!number) return undefined;
  const amount = amountOf(number[0], format.decimalSeparator);
  if (amount === undefined) return undefined;
  const table: Record<string, string> = { ...COMMON_CURRENCIES };
  for (const [word, code] of Object.entries(format.currencies ?? {})) table[word.toLowerCase()] = code;
  const currencies = currenciesIn(flat, table);
  const end = number.index + number[0].length;
  const currency =
    currencies.find((c) => c.at >= end)?.code ??
    currencies.filter((c) => c.at < number.index).at(-1)?.code ??
    format.defaultCurrency;
  if (currency === undefined) return undefined;
  return { amount: Math.round(amount * 100) / 100, currency };
}
