/**
 * One GraphQL operation run on a node through a router, for the gateway's own resolvers (the
 * slow path: subscriptions' companions, mixed operations, GET, uploads from the FTP poller).
 * The node's refusals come back as the same ApiErrors, so a client sees the node's codes.
 */
import { ApiError, isApiError } from '../../api/errors.js';
import type { HttpResponse } from '../../common/http-client.js';
import type { TypedDocumentString } from '../../schema/generated/graphql.js';
import { NoLeaderError, NoNodeError } from '../routing/routing-errors.js';

export interface Router {
  send(body: Buffer | string, headers: Record<string, string>): Promise<HttpResponse>;
}

const DATE_KEYS = ['createdAt', 'updatedAt', 'scrapedAt', 'lastSeenAt', 'at'] as const;
const DATE_FIELDS = new Set<string>(DATE_KEYS);

/**
 * A generated result type as it is once parsed with `dateReviver`: the (DateTime) strings under
 * the reviver's keys are Dates, everything else is as generated.
 */
export type Revived<T> = T extends string | number | boolean | null | undefined
  ? T
  : T extends readonly (infer U)[]
    ? Revived<U>[]
    : {
        [K in keyof T]: K extends (typeof DATE_KEYS)[number] ? Exclude<T[K], string> | Date : Revived<T[K]>;
      };

/** The variables a generated operation takes: optional when it has no required one. */
export type VariablesFor<V> = Record<string, never> extends V ? { variables?: V } : { variables: V };

/** A JSON reviver that turns the contract's DateTime fields into Dates, as the DTOs have them. */
export const dateReviver = (key: string, value: unknown): unknown =>
  DATE_FIELDS.has(key) && typeof value === 'string' ? new Date(value) : value;

export function parseWithDates(text: string): unknown {
  return JSON.parse(text, dateReviver);
}

export async function runRemote<T, V>(
  router: Router,
  request: { query: TypedDocumentString<T, V>; headers?: Record<string, string> } & VariablesFor<V>,
): Promise<Revived<T>> {
  let res: HttpResponse;
  try {
    res = await router.send(
      JSON.stringify({ query: String(request.query), variables: request.variables ?? {} }),
      {
        'content-type': 'application/json',
        ...request.headers,
      },
    );
  } catch (error) {
    throw asApiError(error);
  }
  return dataOf<Revived<T>>(res);
}

/** The `data` of a node's GraphQL answer, or its first error as an ApiError. */
export function dataOf<T>(res: HttpResponse): T {
  let body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
  try {
    body = parseWithDates(res.body.toString('utf8')) as typeof body;
  } catch {
    throw new Error(`a node answered HTTP ${res.status} with a body that is not JSON`);
  }
  const first = body.errors?.[0];
  if (first) {
    const { code, ...rest } = first.extensions ?? {};
    const error = new ApiError(String(code) as ApiError['code'], first.message, rest);
    if (isApiError(error)) throw error;
    throw new Error(`a node answered: ${first.message} (${String(code)})`);
  }
  return body.data as T;
}

export function asApiError(error: unknown): Error {
  if (error instanceof NoLeaderError) return ApiError.noLeader(error.message);
  if (error instanceof NoNodeError) return ApiError.serviceUnavailable(error.message);
  return error instanceof Error ? error : new Error(String(error));
}
