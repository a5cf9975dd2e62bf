/**
 * Reads a .eml file back into what a person sees (decoded headers, the text and HTML bodies),
 * so that tests can check what the SMTP sink received as a mail client would show it. Covers
 * what nodemailer writes: folded headers, RFC 2047 words, quoted-printable and base64 bodies,
 * nested multipart. Not a general MIME parser.
 */
import { readFileSync } from 'node:fs';

export interface ReadMail {
  /** Lower-cased header name → decoded value (the first occurrence). */
  readonly headers: ReadonlyMap<string, string>;
  readonly text: string | null;
  readonly html: string | null;
}

export function readEml(file: string): ReadMail {
  return parseEml(readFileSync(file, 'latin1'));
}

/** `raw` as bytes in a latin1 string, so that encoded 8-bit bytes survive until decoded. */
export function parseEml(raw: string): ReadMail {
  const out = { text: null as string | null, html: null as string | null };
  const headers = parsePart(raw, out);
  return { headers, ...out };
}

function parsePart(raw: string, out: { text: string | null; html: string | null }): Map<string, string> {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, decodeWords(line.slice(colon + 1).trim()));
  }
  const type = (headers.get('content-type') ?? 'text/plain').toLowerCase();
  const boundary = /boundary="?([^";]+)"?/i.exec(headers.get('content-type') ?? '')?.[1];
  if (type.startsWith('multipart/') && boundary) {
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      parsePart(part.replace(/^\r?\n/, ''), out);
    }
  } else {
    const text = decodeBody(body, headers.get('content-transfer-encoding') ?? '7bit');
    if (type.startsWith('text/html')) out.html ??= text;
    else if (type.startsWith('text/plain')) out.text ??= text;
  }
  return headers;
}

function decodeBody(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return quotedPrintable(body.replace(/=\r?\n/g, ''));
    default:
      return Buffer.from(body, 'latin1').toString('utf8');
  }
}

const quotedPrintable = (text: string) =>
  Buffer.from(
    text.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');

/** RFC 2047 encoded words (=?utf-8?Q?…?= and =?utf-8?B?…?=); the space between two is dropped. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _charset: string, kind: string, data: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : quotedPrintable(data.replace(/_/g, ' ')),
    );
}
