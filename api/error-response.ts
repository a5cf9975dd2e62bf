/**
 * The JSON body of an error answered outside GraphQL execution — a request refused before it
 * runs: no route, a body too large or malformed, an unsigned batch; at the gateway's proxy a
 * missing token, no leader, no node — in the shape Apollo gives an error:
 * `{ errors: [{ message, extensions: { code, … } }] }`. The nodes and the gateway's proxy write
 * every such answer with these, so the two cannot drift apart.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { INTERNAL_ERROR_MESSAGE } from './format-error.js';

export interface ErrorResponseBody {
  readonly errors: readonly GraphQLFormattedError[];
}

/** An error as Apollo writes it: `extensions.http` (the status it asks for) stays out of the body. */
export function errorBody(error: GraphQLError): ErrorResponseBody {
  const { http: _http, ...extensions } = error.extensions;
  return { errors: [{ message: error.message, extensions }] };
}

/** A refusal with one of the server's own codes (BAD_REQUEST, NOT_FOUND, PAYLOAD_TOO_LARGE…). */
export function refusalBody(code: string, message: string): ErrorResponseBody {
  return errorBody(new GraphQLError(message, { extensions: { code } }));
}

/** A failure of ours: masked, like any unexpected error Apollo reports. */
export function internalErrorBody(): ErrorResponseBody {
  return refusalBody('INTERNAL_SERVER_ERROR', INTERNAL_ERROR_MESSAGE);
}
