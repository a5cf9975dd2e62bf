/**
 * Which errors reach clients as they are: ApiErrors and the server's own request errors (parse,
 * validation, CSRF, bad variables). Everything else is logged and masked, so no internals leak.
 */
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { type ApiError, isApiError } from './errors.js';

/**
 * The host's own refusals among errors that are not ApiErrors (a node: the database primary lost
 * under a read during a failover — SERVICE_UNAVAILABLE, "retry", rather than a masked internal
 * error). Null: not one of them.
 */
export type KnownErrors = (error: unknown) => ApiError | null;

const REQUEST_ERROR_CODES: ReadonlySet<string> = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

export function maskedError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  return {
    message: INTERNAL_ERROR_MESSAGE,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}

/** `formatted` saying what `refusal` says (its message and code), where it happened. */
function formattedAs(formatted: GraphQLFormattedError, refusal: ApiError): GraphQLFormattedError {
  return {
    message: refusal.message,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { ...refusal.extensions },
  };
}

/** Apollo Server's `formatError`. */
export function apolloFormatError(logger: Logger, known: KnownErrors = () => null) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (isApiError(original) || isApiError(error)) return formatted;
    const refusal = known(original);
    if (refusal) return formattedAs(formatted, refusal);
    // Apollo's own codes (BAD_USER_INPUT for bad variables is also an API code, handled above).
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && (REQUEST_ERROR_CODES.has(code) || code === 'BAD_USER_INPUT')) {
      return formatted;
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected GraphQL error');
    return maskedError(formatted);
  };
}

/**
 * The same policy for graphql-ws, which hands over GraphQLErrors. `beforeExecution` errors without
 * an original error are parse/validation errors and pass; execution errors must be ApiErrors.
 */
export function wsFormatErrors(
  logger: Logger,
  errors: readonly GraphQLError[],
  beforeExecution: boolean,
  known: KnownErrors = () => null,
): GraphQLFormattedError[] {
  return errors.map((error) => {
    let root: Error = error;
    while (root instanceof GraphQLError && root.originalError) root = root.originalError as Error;
    const formatted = error.toJSON();
    if (isApiError(root) || isApiError(error)) return formatted;
    if (beforeExecution && !error.originalError) return formatted;
    const refusal = known(root);
    if (refusal) return formattedAs(formatted, refusal);
    logger.error({ err: root, path: formatted.path }, 'unexpected GraphQL error (WebSocket)');
    return maskedError(formatted);
  });
}
