/**
 * Mutations need `Authorization: Bearer <API_TOKEN>`; queries and subscriptions don't. The header
 * is checked once per request (into the context) and enforced by `@Authorized()` on mutations.
 */
import type { AuthChecker } from 'type-graphql';
import { refusalOf } from '../common/bearer-token.js';
import type { GraphqlContext } from './context.js';
import { ApiError } from './errors.js';

/** type-graphql authChecker: throws UNAUTHENTICATED with the reason instead of a generic denial. */
export const authChecker: AuthChecker<GraphqlContext> = ({ context }) => {
  if (context.auth === 'ok') return true;
  throw ApiError.unauthenticated(refusalOf(context.auth));
};
