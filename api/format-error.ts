/**
 * Which errors reach clients as they are: ApiErrors and the server's own request errors (parse,
 * validation, CSRF, bad variables). Everything else is logged and masked, so no internals leak.
 */
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { isApiError } from './errors.js';

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

/** Apollo Server's `formatError`. */
export function apolloFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (isApiError(original) || isApiError(error)) return formatted;
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
): GraphQLFormattedError[] {
  return errors.map((error) => {
    let root: Error = error;
    while (root instanceof GraphQLError && root.originalError) root = root.originalError as Error;
    const formatted = error.toJSON();
    if (isApiError(root) || isApiError(error)) return formatted;
    if (beforeExecution && !error.originalError) return formatted;
    logger.error({ err: root, path: formatted.path }, 'unexpected GraphQL error (WebSocket)');
    return maskedError(formatted);
  });
}
