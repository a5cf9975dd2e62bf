/**
 * Malformed GraphQL requests, from a seed, against a GraphQL HTTP endpoint (the gateway's or a
 * node's `/graphql`): bodies that are not JSON, wrong content types, syntax errors, unknown
 * fields, wrongly typed variables, invalid enum values, huge strings, deep nesting, mutations
 * without (valid) credentials, bad idempotency keys and malformed multipart uploads.
 *
 * Every one must get a clear refusal — HTTP 4xx, or a GraphQL error — whose errors all carry an
 * `extensions.code` other than INTERNAL_SERVER_ERROR; never a 5xx, never a hang, never a success.
 * None of them may store anything: the caller compares the log's head position before and after.
 */
import { request } from 'node:http';
import { IDEMPOTENCY_KEY_HEADER, PREFLIGHT_HEADER, PREFLIGHTED } from '../common/http-headers.js';
import { MAX_JSON_BYTES } from '../common/limits.js';
import { Prng } from '../nodes/election/simulation/prng.js';

export const GRAPHQL_FAMILIES = [
  'invalid-json',
  'content-type',
  'syntax',
  'unknown-field',
  'variable-type',
  'enum',
  'huge-string',
  'depth',
  'auth',
  'idempotency-key',
  'domain-input',
  'multipart',
  'upload-file',
] as const;
export type GraphqlFamily = (typeof GRAPHQL_FAMILIES)[number];

export interface GraphqlCase {
  readonly family: GraphqlFamily;
  /** What is wrong with it, for the report. */
  readonly name: string;
  readonly method: 'GET' | 'POST';
  /** Path and query string, e.g. `/graphql?query=…`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

export interface GraphqlFuzzOptions {
  readonly seed: number;
  /** The API token: most write cases carry it, so they get past authentication to the real checks. */
  readonly apiToken: string;
  /** The upload limit the endpoint enforces (MAX_UPLOAD_BYTES). */
  readonly maxUploadBytes: number;
  /** Cases beyond one of each kind, picked at random (default 200). */
  readonly extra?: number;
}

const PATH = '/graphql';
const JSON_TYPE = { 'content-type': 'application/json' };
const UPLOAD = 'mutation ($f: Upload!) { uploadFile(file: $f) { id name sha256 importedListings } }';

const validListing = (i: number) => ({
  title: `Fuzz lamp ${i}`,
  url: `https://shop.example/fuzz/${i}`,
  price: 390,
  currency: 'MDL',
  priceEur: 20,
  scrapedAt: '2026-11-24T10:00:00Z',
});

type Maker = (g: CaseMaker) => GraphqlCase;

/** Builds cases; the seeded randomness decides the details of each. */
class CaseMaker {
  constructor(
    readonly rng: Prng,
    readonly options: GraphqlFuzzOptions,
  ) {}

  get auth(): Record<string, string> {
    return { authorization: `Bearer ${this.options.apiToken}` };
  }

  word(min = 1, max = 12): string {
    const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_';
    let s = '';
    for (let i = this.rng.int(min, max); i > 0; i--) s += letters[this.rng.int(0, letters.length - 1)];
    return s;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.rng.int(0, 255);
    return b;
  }

  /** A title the domain would accept: only the thing under test is wrong. */
  title(): string {
    return `fuzz ${this.word(4, 10)}`;
  }

  json(family: GraphqlFamily, name: string, payload: unknown, headers: Record<string, string> = {}) {
    return this.raw(family, name, Buffer.from(JSON.stringify(payload)), { ...JSON_TYPE, ...headers });
  }

  raw(family: GraphqlFamily, name: string, body: Buffer, headers: Record<string, string>): GraphqlCase {
    return { family, name, method: 'POST', path: PATH, headers, body };
  }

  createTask(title: string = this.title()): string {
    return `mutation { createTask(input: { title: ${JSON.stringify(title)} }) { id title version } }`;
  }
}

export interface MultipartPart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly data: Buffer | string;
}

/** A multipart/form-data body, as `curl -F` would send it. */
export function multipartBody(parts: readonly MultipartPart[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`;
    const type = p.contentType ? `\r\nContent-Type: ${p.contentType}` : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`));
    chunks.push(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

function upload(
  g: CaseMaker,
  name: string,
  file: Buffer | string,
  opts: {
    family?: GraphqlFamily;
    operations?: string;
    map?: string | null;
    headers?: Record<string, string>;
    extraParts?: MultipartPart[];
    truncate?: boolean;
  } = {},
): GraphqlCase {
  const boundary = `----fuzz${g.word(8, 16)}`;
  const parts: MultipartPart[] = [
    {
      name: 'operations',
      data: opts.operations ?? JSON.stringify({ query: UPLOAD, variables: { f: null } }),
    },
  ];
  if (opts.map !== null)
    parts.push({ name: 'map', data: opts.map ?? JSON.stringify({ 0: ['variables.f'] }) });
  parts.push({ name: '0', filename: 'listings.json', contentType: 'application/json', data: file });
  parts.push(...(opts.extraParts ?? []));
  let body = multipartBody(parts, boundary);
  if (opts.truncate) body = body.subarray(0, g.rng.int(Math.floor(body.length / 2), body.length - 8));
  return g.raw(opts.family ?? 'upload-file', name, body, {
    'content-type': `multipart/form-data; boundary=${boundary}`,
    ...PREFLIGHTED,
    ...g.auth,
    ...(opts.headers ?? {}),
  });
}

/** Every kind of case, each a function of the randomness. */
const MAKERS: readonly Maker[] = [
  // --- bodies that are not JSON, or not what they claim
  (g) =>
    g.raw('invalid-json', 'random bytes as JSON', g.bytes(g.rng.int(1, 300)), { ...JSON_TYPE, ...g.auth }),
  (g) => {
    const text = JSON.stringify({ query: g.createTask() });
    return g.raw(
      'invalid-json',
      'truncated JSON',
      Buffer.from(text.slice(0, g.rng.int(1, text.length - 1))),
      {
        ...JSON_TYPE,
        ...g.auth,
      },
    );
  },
  (g) => g.raw('invalid-json', 'empty JSON body', Buffer.alloc(0), { ...JSON_TYPE, ...g.auth }),
  (g) =>
    g.json('invalid-json', 'JSON that is not an object', g.rng.pick([42, 'mutation', null, true]), g.auth),
  (g) => g.json('invalid-json', 'query is not a string', { query: { createTask: 1 } }, g.auth),
  (g) => g.json('invalid-json', 'no query at all', { variables: { a: 1 } }, g.auth),
  (g) =>
    g.json(
      'invalid-json',
      'a batch (not enabled)',
      [{ query: g.createTask() }, { query: g.createTask() }],
      g.auth,
    ),
  (g) =>
    g.json(
      'invalid-json',
      'variables is not an object',
      { query: g.createTask(), variables: '{"t":1}' },
      g.auth,
    ),
  (g) =>
    g.raw(
      'invalid-json',
      'JSON body over 1 MiB',
      Buffer.from(JSON.stringify({ query: g.createTask(), pad: 'x'.repeat(MAX_JSON_BYTES) })),
      {
        ...JSON_TYPE,
        ...g.auth,
      },
    ),
  // --- content types
  (g) =>
    g.raw('content-type', 'mutation as text/plain', Buffer.from(JSON.stringify({ query: g.createTask() })), {
      'content-type': 'text/plain',
      ...g.auth,
    }),
  (g) =>
    g.raw('content-type', 'mutation as a form', Buffer.from(`query=${encodeURIComponent(g.createTask())}`), {
      'content-type': 'application/x-www-form-urlencoded',
      ...g.auth,
    }),
  (g) =>
    g.raw('content-type', 'no content type', Buffer.from(JSON.stringify({ query: g.createTask() })), g.auth),
  (g) =>
    g.raw('content-type', 'multipart without a boundary', Buffer.from('--x\r\n\r\n--x--'), {
      'content-type': 'multipart/form-data',
      ...PREFLIGHTED,
      ...g.auth,
    }),
  (g) => ({
    family: 'content-type',
    name: 'mutation over GET',
    method: 'GET',
    path: `${PATH}?query=${encodeURIComponent(g.createTask())}`,
    headers: { ...g.auth, ...PREFLIGHTED },
  }),
  // --- syntax
  (g) => {
    const doc = g.createTask();
    return g.json(
      'syntax',
      'document cut short',
      { query: doc.slice(0, g.rng.int(1, doc.length - 2)) },
      g.auth,
    );
  },
  (g) => {
    const doc = g.createTask();
    // Anywhere but inside the title's string literal, where junk would only be text; and junk
    // that no position outside a string makes valid (a comment, a spread or a brace can).
    const open = doc.indexOf('"');
    const close = doc.indexOf('"', open + 1);
    const outside = g.rng.int(0, doc.length - (close - open));
    const at = outside <= open ? outside : outside + (close - open);
    const junk = g.rng.pick(['{{', '((', '$$', '!!', '@@', '\u0000', '::', '==']);
    return g.json('syntax', 'junk inserted', { query: doc.slice(0, at) + junk + doc.slice(at) }, g.auth);
  },
  (g) => g.json('syntax', 'random text', { query: g.bytes(g.rng.int(1, 200)).toString('latin1') }, g.auth),
  (g) => g.json('syntax', 'empty document', { query: g.rng.pick(['', ' ', '#comment']) }, g.auth),
  (g) => g.json('syntax', 'unbalanced braces, deep', { query: '{'.repeat(g.rng.int(100, 5000)) }, g.auth),
  // --- unknown fields and arguments
  (g) => g.json('unknown-field', 'unknown root field', { query: `{ ${g.word()}Fuzz }` }, g.auth),
  (g) =>
    g.json(
      'unknown-field',
      'unknown input field',
      {
        query: `mutation { createTask(input: { title: "x", ${g.word()}Fuzz: 1 }) { id } }`,
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'unknown-field',
      'unknown argument',
      {
        query: `mutation { createTask(input: { title: "x" }, ${g.word()}Fuzz: true) { id } }`,
      },
      g.auth,
    ),
  (g) =>
    g.json('unknown-field', 'unknown field on a type', {
      query: `{ tasks { edges { node { id ${g.word()}Fuzz } } } }`,
    }),
  (g) =>
    g.json('unknown-field', 'unknown mutation', { query: `mutation { drop${g.word()}(all: true) }` }, g.auth),
  (g) =>
    g.json(
      'unknown-field',
      'operation name not in the document',
      {
        query: g.createTask(),
        operationName: g.word(),
      },
      g.auth,
    ),
  // --- variable types
  (g) =>
    g.json(
      'variable-type',
      'String! given a non-string',
      {
        query: 'mutation ($t: String!) { createTask(input: { title: $t }) { id } }',
        variables: { t: g.rng.pick([5, true, { a: 1 }, [1, 2], null]) },
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'variable-type',
      'required variable missing',
      {
        query: 'mutation ($t: String!) { createTask(input: { title: $t }) { id } }',
        variables: {},
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'variable-type',
      'Int out of range or not an Int',
      {
        query:
          'mutation ($v: Int) { updateTask(id: "x", input: { title: "y" }, expectedVersion: $v) { id } }',
        variables: { v: g.rng.pick([2 ** 31, -(2 ** 40), 1.5, '3', Number.MAX_SAFE_INTEGER]) },
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'variable-type',
      'input object given a list',
      {
        query: 'mutation ($i: CreateTaskInput!) { createTask(input: $i) { id } }',
        variables: { i: [{ title: g.title() }] },
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'variable-type',
      'variable declared with a wrong type',
      {
        query: 'mutation ($t: Int!) { createTask(input: { title: $t }) { id } }',
        variables: { t: 1 },
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'variable-type',
      'Float given a string or infinity',
      {
        query: 'mutation ($l: ListingInput!) { upsertListing(input: $l) { id } }',
        variables: {
          l: { ...validListing(g.rng.int(0, 1e6)), price: g.rng.pick(['cheap', '1e400', null, {}]) },
        },
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'variable-type',
      'DateTime that is not one',
      {
        query: 'mutation ($l: ListingInput!) { upsertListing(input: $l) { id } }',
        variables: {
          l: {
            ...validListing(g.rng.int(0, 1e6)),
            scrapedAt: g.rng.pick(['yesterday', '2026-13-45T99:00:00Z', 12]),
          },
        },
      },
      g.auth,
    ),
  // --- enums
  (g) =>
    g.json(
      'enum',
      'enum literal not in the enum',
      {
        query: `mutation { createTask(input: { title: "x", status: ${g.rng.pick(['DONE_ISH', 'done', 'ARCHIVED', g.word().toUpperCase()])} }) { id } }`,
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'enum',
      'enum variable not in the enum',
      {
        query: 'mutation ($s: TaskStatus) { createTask(input: { title: "x", status: $s }) { id } }',
        variables: { s: g.rng.pick(['done', 'Todo', 'CLOSED', '', 3]) },
      },
      g.auth,
    ),
  (g) =>
    g.json('enum', 'enum as a string literal', { query: '{ tasks(status: "TODO") { edges { cursor } } }' }),
  // --- huge strings
  (g) =>
    g.json(
      'huge-string',
      'title far over the limit',
      {
        query: 'mutation ($t: String!) { createTask(input: { title: $t }) { id } }',
        variables: { t: 'T'.repeat(g.rng.int(201, 200_000)) },
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'huge-string',
      'description over the limit',
      {
        query: 'mutation ($d: String) { createTask(input: { title: "x", description: $d }) { id } }',
        variables: { d: 'D'.repeat(g.rng.int(5_001, 300_000)) },
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'huge-string',
      'listing url and title over the limit',
      {
        query: 'mutation ($l: ListingInput!) { upsertListing(input: $l) { id } }',
        variables: {
          l: {
            ...validListing(g.rng.int(0, 1e6)),
            url: `https://shop.example/${'u'.repeat(g.rng.int(2_001, 50_000))}`,
          },
        },
      },
      g.auth,
    ),
  (g) =>
    g.json('huge-string', 'huge cursor', {
      query: `{ tasks(after: ${JSON.stringify('c'.repeat(g.rng.int(1_000, 200_000)))}) { edges { cursor } } }`,
    }),
  // --- depth
  (g) => {
    const depth = g.rng.int(13, 40);
    let inner = 'name';
    for (let i = 0; i < depth - 2; i++) inner = `fields { type { ${inner} } }`;
    return g.json('depth', `introspection nested ${depth} deep`, {
      query: `{ __schema { types { ${inner} } } }`,
    });
  },
  (g) => {
    const n = g.rng.int(20, 200);
    const frags = Array.from(
      { length: n },
      (_, i) => `fragment F${i} on __Type { fields { type { ...F${i + 1} } } }`,
    );
    frags.push(`fragment F${n} on __Type { name }`);
    return g.json('depth', `fragments nested ${n} deep`, {
      query: `{ __schema { types { ...F0 } } } ${frags.join(' ')}`,
    });
  },
  (g) => {
    const n = g.rng.int(2, 50);
    const frags = Array.from(
      { length: n },
      (_, i) => `fragment C${i} on __Type { ofType { ...C${(i + 1) % n} } }`,
    );
    return g.json('depth', 'fragment cycle', {
      query: `{ __schema { types { ...C0 } } } ${frags.join(' ')}`,
    });
  },
  (g) => {
    const depth = g.rng.int(50, 2_000);
    return g.json(
      'depth',
      `input value nested ${depth} deep`,
      {
        query: `mutation { createTask(input: { title: "x", description: ${'['.repeat(depth)}1${']'.repeat(depth)} }) { id } }`,
      },
      g.auth,
    );
  },
  // --- authentication
  (g) => g.json('auth', 'mutation without a token', { query: g.createTask() }),
  (g) =>
    g.json(
      'auth',
      'mutation with a wrong token',
      { query: g.createTask() },
      {
        authorization: g.rng.pick([
          `Bearer ${g.options.apiToken}x`,
          `Bearer ${g.options.apiToken.slice(1)}`,
          'Bearer ',
          `Bearer ${g.word(16, 40)}`,
          `bearer${g.options.apiToken}`,
          `Basic ${Buffer.from(`admin:${g.options.apiToken}`).toString('base64')}`,
          g.options.apiToken,
          '',
        ]),
      },
    ),
  (g) =>
    g.json('auth', 'every mutation without a token', {
      query: g.rng.pick([
        'mutation { deleteTask(id: "x") }',
        'mutation { updateTask(id: "x", input: { title: "y" }) { id } }',
        `mutation { upsertListing(input: { title: "t", url: "https://a.example/${g.word()}", price: 1, currency: "EUR", priceEur: 1, scrapedAt: "2026-01-01T00:00:00Z" }) { id } }`,
        `mutation { upsertListings(inputs: [{ title: "t", url: "https://a.example/${g.word()}", price: 1, currency: "EUR", priceEur: 1, scrapedAt: "2026-01-01T00:00:00Z" }]) { id } }`,
      ]),
    }),
  (g) =>
    upload(g, 'upload without a token', JSON.stringify([validListing(g.rng.int(0, 1e6))]), {
      family: 'auth',
      headers: { authorization: g.rng.pick(['', 'Bearer nope-nope-nope-nope']) },
    }),
  // --- idempotency keys
  (g) =>
    g.json(
      'idempotency-key',
      'Idempotency-Key header over 160 characters',
      { query: g.createTask() },
      {
        ...g.auth,
        [IDEMPOTENCY_KEY_HEADER]: 'k'.repeat(g.rng.int(161, 4_000)),
      },
    ),
  (g) =>
    g.json(
      'idempotency-key',
      'empty Idempotency-Key header',
      { query: g.createTask() },
      {
        ...g.auth,
        [IDEMPOTENCY_KEY_HEADER]: g.rng.pick(['', ' ', '\t']),
      },
    ),
  (g) =>
    g.json(
      'idempotency-key',
      'empty idempotencyKey argument',
      {
        query: `mutation { createTask(input: { title: "x" }, idempotencyKey: ${JSON.stringify(g.rng.pick(['', '   ']))}) { id } }`,
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'idempotency-key',
      'idempotencyKeys not one per input',
      {
        query:
          'mutation ($l: [ListingInput!]!, $k: [String!]) { upsertListings(inputs: $l, idempotencyKeys: $k) { id } }',
        variables: { l: [validListing(g.rng.int(0, 1e6)), validListing(g.rng.int(0, 1e6))], k: ['only-one'] },
      },
      g.auth,
    ),
  // --- inputs the schema takes and the domain refuses
  (g) =>
    g.json(
      'domain-input',
      'empty or blank title',
      {
        query: `mutation { createTask(input: { title: ${JSON.stringify(g.rng.pick(['', ' ', '\n\t']))} }) { id } }`,
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'domain-input',
      'listing refused by the domain',
      {
        query: 'mutation ($l: ListingInput!) { upsertListing(input: $l) { id } }',
        variables: {
          l: {
            ...validListing(g.rng.int(0, 1e6)),
            ...g.rng.pick([
              { price: -1 },
              { priceEur: -0.01 },
              { currency: 'eur' },
              { currency: 'EURO' },
              { url: 'ftp://shop.example/x' },
              { url: 'not a url' },
              { title: '   ' },
            ]),
          },
        },
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'domain-input',
      'too many listings at once',
      {
        query: 'mutation ($l: [ListingInput!]!) { upsertListings(inputs: $l) { id } }',
        variables: { l: Array.from({ length: 501 }, (_, i) => validListing(i + g.rng.int(0, 1e6))) },
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'domain-input',
      'update or delete of a task that does not exist',
      {
        query: g.rng.pick([
          `mutation { updateTask(id: "${g.word()}", input: { title: "y" }) { id } }`,
          `mutation { deleteTask(id: "${g.word()}") }`,
          `mutation { updateTask(id: "00000000-0000-0000-0000-000000000000", input: { status: DONE }, expectedVersion: 1) { id } }`,
        ]),
      },
      g.auth,
    ),
  (g) =>
    g.json(
      'domain-input',
      'negative expectedVersion or empty update',
      {
        query: g.rng.pick([
          'mutation { updateTask(id: "x", input: { title: "y" }, expectedVersion: -1) { id } }',
          'mutation { updateTask(id: "x", input: {}) { id } }',
          'mutation { updateTask(id: "x", input: { title: null }) { id } }',
        ]),
      },
      g.auth,
    ),
  (g) =>
    g.json('domain-input', 'page size or cursor out of range', {
      query: g.rng.pick([
        '{ tasks(first: 0) { edges { cursor } } }',
        '{ tasks(first: 100000) { edges { cursor } } }',
        '{ tasks(after: "not-a-cursor") { edges { cursor } } }',
        '{ listings(minPrice: 10, maxPrice: 1) { edges { cursor } } }',
        '{ events(afterPosition: -1) { position } }',
        '{ events(first: -5) { position } }',
      ]),
    }),
  // --- malformed multipart
  (g) => upload(g, 'no map part', '[]', { family: 'multipart', map: null }),
  (g) => upload(g, 'operations not JSON', '[]', { family: 'multipart', operations: `{"query": "${UPLOAD}` }),
  (g) =>
    upload(g, 'operations random bytes', '[]', {
      family: 'multipart',
      operations: g.bytes(g.rng.int(1, 200)).toString('latin1'),
    }),
  (g) => upload(g, 'map not JSON', '[]', { family: 'multipart', map: '{"0": ["variables.f"' }),
  (g) =>
    upload(g, 'map points nowhere', '[]', {
      family: 'multipart',
      map: JSON.stringify(
        g.rng.pick([
          { 0: ['variables.nope.deeper'] },
          { 0: ['query'] },
          { 0: 'variables.f' },
          { 1: ['variables.f'] },
        ]),
      ),
    }),
  (g) =>
    upload(g, 'body cut short', JSON.stringify([validListing(1)]), { family: 'multipart', truncate: true }),
  (g) =>
    upload(g, 'two files (one allowed)', '[]', {
      family: 'multipart',
      map: JSON.stringify({ 0: ['variables.f'], 1: ['variables.g'] }),
      extraParts: [{ name: '1', filename: 'b.json', contentType: 'application/json', data: '[]' }],
    }),
  (g) =>
    upload(g, 'upload without the preflight header', JSON.stringify([validListing(2)]), {
      family: 'multipart',
      headers: { [PREFLIGHT_HEADER]: '' },
    }),
  (g) =>
    g.json(
      'multipart',
      'Upload variable given as JSON',
      {
        query: UPLOAD,
        variables: { f: g.rng.pick(['listings.json', { name: 'x' }, 1]) },
      },
      g.auth,
    ),
  // --- upload contents
  (g) => {
    const size = g.options.maxUploadBytes + g.rng.int(1, 4_096);
    const file = Buffer.alloc(size, 0x20);
    file.write('[', 0);
    file.write(']', size - 1);
    return upload(g, `file of ${size} bytes, over the limit`, file);
  },
  (g) => upload(g, 'file of random bytes', g.bytes(g.rng.int(1, 4_000))),
  (g) => upload(g, 'file not UTF-8', Buffer.from([0x5b, 0xff, 0xfe, 0xfd, 0x5d])),
  (g) => upload(g, 'file of plain text', `title,url,price\n${g.word()},https://x.example,1\n`),
  (g) => upload(g, 'empty file', ''),
  (g) =>
    upload(
      g,
      'listings file of the wrong shape',
      g.rng.pick([
        '{"listings": []}',
        '[1, 2, 3]',
        '[null]',
        '"[]"',
        JSON.stringify([{ ...validListing(3), price: -5 }]),
        JSON.stringify([{ ...validListing(4), url: 'javascript:alert(1)' }]),
        JSON.stringify([validListing(5), { title: 'missing everything else' }]),
        JSON.stringify([{ ...validListing(6), currency: 'lei' }]),
        JSON.stringify([{ ...validListing(7), scrapedAt: 'soon' }]),
      ]),
    ),
  (g) => {
    // Valid listings, then one bad one at the end: all or nothing, so none may be stored.
    const n = g.rng.int(2, 50);
    const items: unknown[] = Array.from({ length: n }, (_, i) =>
      validListing(1_000_000 + g.rng.int(0, 1e6) + i),
    );
    items.push({ ...validListing(9), priceEur: 'twenty' });
    return upload(g, `${n} good listings and a bad one`, JSON.stringify(items));
  },
];

/** One case of every kind, then `extra` picked at random; a pure function of the options. */
export function graphqlCases(options: GraphqlFuzzOptions): GraphqlCase[] {
  const g = new CaseMaker(new Prng(options.seed), options);
  const cases = MAKERS.map((make) => make(g));
  for (let i = 0; i < (options.extra ?? 200); i++) cases.push(g.rng.pick(MAKERS)(g));
  return cases;
}

export interface GraphqlOutcome {
  readonly case: GraphqlCase;
  /** HTTP status, or 0 when no answer came (hang, reset). */
  readonly status: number;
  /** `extensions.code` of each error in the answer. */
  readonly codes: readonly string[];
  /** Why this is not a clear refusal; undefined when it is one. */
  readonly problem?: string;
  readonly ms: number;
}

/** Sends one case and judges the answer. */
export async function runGraphqlCase(
  baseUrl: string,
  c: GraphqlCase,
  timeoutMs = 15_000,
): Promise<GraphqlOutcome> {
  const started = performance.now();
  let status = 0;
  let text = '';
  try {
    ({ status, text } = await send(new URL(c.path, baseUrl), c, timeoutMs));
  } catch (error) {
    return {
      case: c,
      status: 0,
      codes: [],
      problem: `no answer: ${(error as Error).message}`,
      ms: performance.now() - started,
    };
  }
  const ms = performance.now() - started;
  let body: { data?: unknown; errors?: Array<{ extensions?: { code?: unknown } }> } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const errors = Array.isArray(body?.errors) ? body.errors : [];
  const codes = errors.map((e) => (typeof e?.extensions?.code === 'string' ? e.extensions.code : '(none)'));
  const problem =
    status >= 500
      ? `HTTP ${status}`
      : body === undefined
        ? `HTTP ${status} with a body that is not JSON: ${text.slice(0, 120)}`
        : errors.length === 0
          ? `HTTP ${status} without an error (data: ${JSON.stringify(body.data).slice(0, 120)})`
          : codes.includes('(none)')
            ? 'an error without extensions.code'
            : codes.includes('INTERNAL_SERVER_ERROR')
              ? 'INTERNAL_SERVER_ERROR'
              : hasData(body.data)
                ? `a field succeeded: ${JSON.stringify(body.data).slice(0, 120)}`
                : undefined;
  return { case: c, status, codes, ms, ...(problem === undefined ? {} : { problem }) };
}

/** Any non-null value in `data`: something answered, which no case here may get. */
function hasData(data: unknown): boolean {
  if (data === null || data === undefined || typeof data !== 'object') return false;
  return Object.values(data).some((v) => v !== null);
}

function send(url: URL, c: GraphqlCase, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: c.method,
        headers: { ...c.headers, ...(c.body ? { 'content-length': String(c.body.length) } : {}) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => {
      // The server may answer (413) and close before the whole body is written: EPIPE/ECONNRESET
      // on our side then, after the answer; an answer that came first is what counts.
      reject(err);
    });
    req.end(c.body);
  });
}

export interface GraphqlFuzzSummary {
  readonly outcomes: readonly GraphqlOutcome[];
  readonly byFamily: Record<GraphqlFamily, number>;
  readonly byCode: Record<string, number>;
  readonly byStatus: Record<string, number>;
  readonly problems: readonly GraphqlOutcome[];
}

/** Runs every case one after the other (a few at a time would only blur which one did harm). */
export async function runGraphqlFuzz(
  baseUrl: string,
  cases: readonly GraphqlCase[],
  onOutcome?: (o: GraphqlOutcome) => void,
): Promise<GraphqlFuzzSummary> {
  const outcomes: GraphqlOutcome[] = [];
  for (const c of cases) {
    const outcome = await runGraphqlCase(baseUrl, c);
    onOutcome?.(outcome);
    outcomes.push(outcome);
  }
  const byFamily = Object.fromEntries(GRAPHQL_FAMILIES.map((f) => [f, 0])) as Record<GraphqlFamily, number>;
  const byCode: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  for (const o of outcomes) {
    byFamily[o.case.family]++;
    byStatus[String(o.status)] = (byStatus[String(o.status)] ?? 0) + 1;
    for (const code of new Set(o.codes)) byCode[code] = (byCode[code] ?? 0) + 1;
  }
  return { outcomes, byFamily, byCode, byStatus, problems: outcomes.filter((o) => o.problem !== undefined) };
}
