/** The demo shop's site profile: the scraper's default. */
import { type SiteProfile, siteProfileSchema } from '../site-profile.js';

export const demoShopProfile: SiteProfile = siteProfileSchema.parse({
  name: 'demo-shop',
  startUrl: 'http://127.0.0.1:4080/',
  listing: {
    item: 'ul.products article.product-card',
    link: 'a.product-link',
    title: '.product-title',
    price: '.price-box .price',
    nextPage: '.pagination a[rel~=next]',
  },
  detail: {
    title: 'article.product h1.product-title',
    // The current price; not the struck-through former one, nor the related products' prices.
    price: 'article.product .product-price .price-current',
  },
  price: { decimalSeparator: 'auto', defaultCurrency: 'MDL' },
});
