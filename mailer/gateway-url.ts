/**
 * The gateway's GraphQL-over-WebSocket URL, from GATEWAY_URL as users write it (the http URL
 * they open in a browser): http → ws, https → wss, and /graphql appended unless it is there.
 */
export function feedUrlOf(gatewayUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(gatewayUrl.trim());
  } catch {
    return null;
  }
  const scheme = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }[url.protocol];
  if (!scheme || !url.hostname || url.search || url.hash) return null;
  url.protocol = scheme;
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith('/graphql') ? path : `${path}/graphql`;
  return url.toString();
}
