import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type PriceFormat, parsePrice } from './price.js';

describe('parsePrice', () => {
  const cases: [string, number, string][] = [
    ['12 500 lei', 12500, 'MDL'],
    ['12\u00a0500 lei', 12500, 'MDL'], // no-break space
    ['12\u202f500 Lei', 12500, 'MDL'], // narrow no-break space, capital L
    ['1.299,00 MDL', 1299, 'MDL'],
    ['1.249,50 MDL', 1249.5, 'MDL'],
    ['7 999 MDL', 7999, 'MDL'],
    ['10.499,00 mdl', 10499, 'MDL'],
    ['5 490,00 lei', 5490, 'MDL'], // "5 490<sup>,00</sup> lei" as text
    ['de la 9 499 lei', 9499, 'MDL'],
    ['Preț: 599 lei', 599, 'MDL'],
    ['16 800 lei (≈ 862 €)', 16800, 'MDL'], // the hint in euros is not the price
    ['1,299 lei', 1299, 'MDL'], // a lone comma before three digits groups thousands
    ['1.299.000 lei', 1299000, 'MDL'],
    ['1,29 lei', 1.29, 'MDL'],
    ['€549.99', 549.99, 'EUR'],
    ['€ 1,299.00', 1299, 'EUR'],
    ['649,00 €', 649, 'EUR'],
    ['189,99 €', 189.99, 'EUR'],
    ['EUR 1,249.00', 1249, 'EUR'],
    ['399 euro', 399, 'EUR'],
    ['$19.99', 19.99, 'USD'],
    ['2 199 lei TVA inclus & transport gratuit, 3 dispozitive', 2199, 'MDL'],
    ['0 lei', 0, 'MDL'],
  ];
  for (const [text, amount, currency] of cases) {
    test(JSON.stringify(text), () => {
      assert.deepEqual(parsePrice(text), { amount, currency });
    });
  }

  test('no number is no price', () => {
    assert.equal(parsePrice('Preț la cerere'), undefined);
    assert.equal(parsePrice('Stoc epuizat'), undefined);
    assert.equal(parsePrice(''), undefined);
  });

  test('a number without a currency needs the site’s default currency', () => {
    assert.equal(parsePrice('12 500'), undefined);
    assert.deepEqual(parsePrice('12 500', { decimalSeparator: 'auto', defaultCurrency: 'MDL' }), {
      amount: 12500,
      currency: 'MDL',
    });
  });

  test('a currency word must stand alone', () => {
    assert.equal(parsePrice('Leipzig 200'), undefined);
  });

  test('an explicit decimal separator settles "1,299" and "1.299"', () => {
    const comma: PriceFormat = { decimalSeparator: ',' };
    const dot: PriceFormat = { decimalSeparator: '.' };
    assert.deepEqual(parsePrice('1,299 lei', comma), { amount: 1.3, currency: 'MDL' });
    assert.deepEqual(parsePrice('1.299 lei', comma), { amount: 1299, currency: 'MDL' });
    assert.deepEqual(parsePrice('1.299 lei', dot), { amount: 1.3, currency: 'MDL' });
    assert.deepEqual(parsePrice('1,299.50 lei', dot), { amount: 1299.5, currency: 'MDL' });
  });

  test('a site’s own currency words', () => {
    const format: PriceFormat = { decimalSeparator: 'auto', currencies: { руб: 'RUB', 'L.': 'MDL' } };
    assert.deepEqual(parsePrice('1 500 руб', format), { amount: 1500, currency: 'RUB' });
  });
});
