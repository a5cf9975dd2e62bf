/**
 * The malformed-GraphQL generator, checked offline against the schema every node serves: a seed
 * gives the same cases; syntax cases do not parse; unknown fields, invalid enums and deep
 * nesting fail validation (with the servers' depth limit); wrongly typed variables fail
 * validation or coercion; auth cases never carry the token; oversize uploads are over the limit.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type DocumentNode,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values.js';
import { DEFAULT_MAX_DEPTH, depthLimitRule } from '../api/depth-limit.js';
import { buildEnsembleSchema } from '../api/schema.js';
import { GRAPHQL_FAMILIES, type GraphqlCase, type GraphqlFamily, graphqlCases } from './graphql-fuzzer.js';

const TOKEN = 'graphql-fuzz-unit-token-0123';
const LIMIT = 4096;
const cases = graphqlCases({ seed: 11, apiToken: TOKEN, maxUploadBytes: LIMIT, extra: 3_000 });
const of = (family: GraphqlFamily) => cases.filter((c) => c.family === family);

function jsonBody(c: GraphqlCase): { query: string; variables?: Record<string, unknown> } {
  return JSON.parse((c.body as Buffer).toString('utf8'));
}

/** What the server's checks before execution say: parse, validate (with the depth limit), coerce. */
function refusal(schema: GraphQLSchema, c: GraphqlCase): 'parse' | 'validation' | 'variables' | null {
  const { query, variables } = jsonBody(c);
  let doc: DocumentNode;
  try {
    doc = parse(query);
  } catch {
    return 'parse';
  }
  if (validate(schema, doc, [...specifiedRules, depthLimitRule(DEFAULT_MAX_DEPTH)]).length > 0)
    return 'validation';
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const coerced = getVariableValues(schema, op?.variableDefinitions ?? [], variables ?? {});
  return coerced.errors ? 'variables' : null;
}

describe('the GraphQL fuzzer', () => {
  test('is a pure function of its seed, and makes every family', () => {
    const again = graphqlCases({ seed: 11, apiToken: TOKEN, maxUploadBytes: LIMIT, extra: 3_000 });
    assert.deepEqual(again, cases);
    const other = graphqlCases({ seed: 12, apiToken: TOKEN, maxUploadBytes: LIMIT, extra: 3_000 });
    assert.notDeepEqual(other, cases);
    for (const f of GRAPHQL_FAMILIES) assert.ok(of(f).length > 20, `${f}: ${of(f).length} cases`);
  });

  test('syntax cases do not parse', () => {
    for (const c of of('syntax')) {
      assert.throws(() => parse(jsonBody(c).query), /Syntax Error/, `${c.name}: ${jsonBody(c).query}`);
    }
  });

  test('unknown fields, invalid enums, deep nesting and wrong variable types are refused before execution', async () => {
    const schema = await buildEnsembleSchema();
    for (const family of ['unknown-field', 'enum', 'depth', 'variable-type'] as const) {
      for (const c of of(family)) {
        // An operation name that is not in the document is refused when the operation is picked.
        if (c.name === 'operation name not in the document') continue;
        assert.notEqual(
          refusal(schema, c),
          null,
          `${family} / ${c.name}: ${(c.body as Buffer).toString().slice(0, 300)}`,
        );
      }
    }
    // The inputs the domain must refuse are well-formed GraphQL: they test the domain, not the parser.
    for (const c of [...of('huge-string'), ...of('domain-input'), ...of('idempotency-key')]) {
      assert.equal(refusal(schema, c), null, `${c.family} / ${c.name}`);
    }
  });

  test('auth cases never carry the token; the others that write do', () => {
    for (const c of of('auth')) assert.notEqual(c.headers.authorization, `Bearer ${TOKEN}`, c.name);
    for (const c of [
      ...of('idempotency-key'),
      ...of('domain-input').filter((x) => x.body?.includes('mutation')),
    ]) {
      assert.equal(c.headers.authorization, `Bearer ${TOKEN}`, c.name);
    }
  });

  test('uploads: over the limit, malformed multipart, bad contents', () => {
    const big = of('upload-file').filter((c) => c.name.includes('over the limit'));
    assert.ok(big.length > 0);
    for (const c of big) assert.ok((c.body as Buffer).length > LIMIT);
    for (const c of [...of('upload-file'), ...of('multipart')]) {
      if (c.headers['content-type']?.startsWith('multipart/form-data')) {
        assert.ok(c.headers['content-type'].includes('boundary='), c.name);
      }
    }
    assert.ok(
      of('multipart').some((c) => !(c.body as Buffer).includes('name="map"')),
      'some lack the map',
    );
  });
});
