/**
 * The demo shop's HTML: listing pages with pagination and detail pages, in the markup real shops
 * use, with the traps real shops have (a struck-through former price beside the current one,
 * prices of other products on the same page, a sidebar of cards that are not the catalogue) and,
 * for the items that ask for it, no price or broken markup.
 */
import type { CatalogueItem } from './catalogue.js';
import { priceHtml } from './price-styles.js';

export const PAGE_SIZE = 10;

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export const itemPath = (slug: string) => `/item/${slug}`;
export const listingPath = (page: number) => (page === 1 ? '/' : `/?page=${page}`);

function layout(title: string, main: string, aside = ''): string {
  return `<!doctype html>
<html lang="ro">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} | Magazinul Demo</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 64rem; padding: 1rem; color: #222; }
    .products { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 1rem; }
    .product-card { border: 1px solid #ddd; border-radius: .5rem; padding: .75rem; }
    .price, .price-current { font-weight: bold; color: #b00; }
    .price-old { color: #888; margin-right: .5rem; }
    .pagination a, .pagination span { margin: 0 .25rem; }
    .layout { display: grid; grid-template-columns: 1fr 14rem; gap: 1rem; }
  </style>
</head>
<body>
  <header class="site-header">
    <a class="logo" href="/">Magazinul Demo</a>
    <nav class="menu"><a href="/">Catalog</a> <a href="/contacte">Contacte</a></nav>
  </header>
  <div class="layout">
    <main>
${main}
    </main>
    <aside class="sidebar">${aside}</aside>
  </div>
  <footer class="site-footer">© Magazinul Demo · prețuri cu TVA inclus · livrare în toată Moldova</footer>
</body>
</html>
`;
}

/** The price as a listing card shows it. */
function cardPrice(item: CatalogueItem): string {
  if (item.quirk === 'no-price-element') return '<span class="stock out">Stoc epuizat</span>';
  if (item.price === null) return '<span class="price on-request">Preț la cerere</span>';
  const old =
    item.oldPrice === undefined
      ? ''
      : `<del class="price-old">${priceHtml(item.oldPrice, item.style)}</del> `;
  // Broken markup: unquoted attributes and an unclosed span that the parser must close itself.
  if (item.quirk === 'broken-markup') return `${old}<SPAN CLASS=price>${priceHtml(item.price, item.style)}`;
  return `${old}<span class="price">${priceHtml(item.price, item.style)}</span>`;
}

function card(item: CatalogueItem): string {
  const title = escapeHtml(item.title);
  if (item.quirk === 'broken-markup') {
    return `      <li><article class=product-card data-sku=${item.slug}>
        <a class=product-link href=${itemPath(item.slug)}><img src="/img/${item.slug}.jpg" alt="${title}"><h2 class=product-title>${title}</h2></a>
        <div class="price-box">${cardPrice(item)}</div>
      </article>`;
  }
  return `      <li><article class="product-card" data-sku="${item.slug}">
        <a class="product-link" href="${itemPath(item.slug)}"><img src="/img/${item.slug}.jpg" alt="${title}"><h2 class="product-title">${title}</h2></a>
        <p class="category">${escapeHtml(item.category)}</p>
        <div class="price-box">${cardPrice(item)}</div>
        <button class="add-to-cart" type="button">Adaugă în coș</button>
      </article></li>`;
}

function pagination(page: number, pageCount: number): string {
  const links: string[] = [];
  if (page > 1) links.push(`<a class="prev" rel="prev" href="${listingPath(page - 1)}">« Înapoi</a>`);
  for (let n = 1; n <= pageCount; n++) {
    links.push(n === page ? `<span class="current">${n}</span>` : `<a href="${listingPath(n)}">${n}</a>`);
  }
  if (page < pageCount)
    links.push(`<a class="next" rel="next" href="${listingPath(page + 1)}">Înainte »</a>`);
  return `      <nav class="pagination">${links.join(' ')}</nav>`;
}

/** Bestsellers in the sidebar: cards with prices that are not the catalogue's listing. */
function bestsellers(items: readonly CatalogueItem[]): string {
  const top = items.filter((i) => i.price !== null).slice(0, 3);
  return `<h3>Top vânzări</h3>${top
    .map(
      (i) =>
        `<div class="promo-card"><a href="${itemPath(i.slug)}">${escapeHtml(i.title)}</a> <span class="price">${priceHtml(i.price as number, i.style)}</span></div>`,
    )
    .join('')}`;
}

export function listingPage(items: readonly CatalogueItem[], page: number): string {
  const pageCount = Math.max(1, Math.ceil(items.length / PAGE_SIZE));
  const shown = items.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  const main = `      <h1>Catalog</h1>
      <p class="results">${items.length} produse · pagina ${page} din ${pageCount}</p>
      <ul class="products">
${shown.map(card).join('\n')}
      </ul>
${pagination(page, pageCount)}`;
  return layout(page === 1 ? 'Catalog' : `Catalog — pagina ${page}`, main, bestsellers(items));
}

function detailPrice(item: CatalogueItem): string {
  if (item.quirk === 'no-price-element') return '<p class="stock out">Stoc epuizat — revine în curând</p>';
  if (item.price === null)
    return '<div class="product-price"><span class="on-request">Preț la cerere</span></div>';
  const old =
    item.oldPrice === undefined
      ? ''
      : `<del class="price-old">${priceHtml(item.oldPrice, item.style)}</del> `;
  if (item.quirk === 'broken-markup') {
    // Unclosed div and span, an upper-case tag, a legacy entity without its semicolon.
    return `<div class=product-price>${old}<SPAN class="price-current">${priceHtml(item.price, item.style)}
      <p class="vat">TVA inclus&nbsp;&amp transport gratuit`;
  }
  return `<div class="product-price">${old}<span class="price-current">${priceHtml(item.price, item.style)}</span></div>`;
}

export function detailPage(item: CatalogueItem, related: readonly CatalogueItem[]): string {
  const title = escapeHtml(item.title);
  const heading =
    item.quirk === 'empty-detail-title'
      ? '<h1 class="product-title"> </h1>'
      : `<h1 class="product-title">${title}</h1>`;
  const main = `      <nav class="breadcrumbs"><a href="/">Catalog</a> › <span>${escapeHtml(item.category)}</span></nav>
      <article class="product" data-sku="${item.slug}">
        ${heading}
        <img src="/img/${item.slug}.jpg" alt="${title}">
        ${detailPrice(item)}
        <p class="description">${escapeHtml(item.description)}</p>
        <table class="specs"><tr><th>Categorie</th><td>${escapeHtml(item.category)}</td></tr><tr><th>Cod</th><td>${item.slug}</td></tr></table>
      </article>
      <section class="related"><h2>Produse similare</h2>${related
        .map(
          (r) =>
            `<div class="related-item"><a href="${itemPath(r.slug)}">${escapeHtml(r.title)}</a>${r.price === null ? '' : ` <span class="price-current">${priceHtml(r.price, r.style)}</span>`}</div>`,
        )
        .join('')}</section>`;
  return layout(item.title, main);
}

export function notFoundPage(): string {
  return layout('Pagina nu există', '      <h1>404</h1><p>Pagina nu există.</p>');
}
