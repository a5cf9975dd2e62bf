/** What every resolver gets from the GraphQL context: the ports and the caller's authentication. */
import type { AuthResult } from '../common/bearer-token.js';
import type { Commands, Feeds, Leadership, ReadModels } from './ports.js';

export interface GraphqlContext {
  readonly readModels: ReadModels;
  readonly commands: Commands;
  readonly feeds: Feeds;
  readonly leadership: Leadership;
  /** Outcome of checking the request's bearer token; only mutations look at it. */
  readonly auth: AuthResult;
  readonly maxUploadBytes: number;
  /**
   * The request's `Idempotency-Key` header, if any. The gateway sends one with every mutation it
   * forwards, so that a retry after a failover is recognised; each mutation field keys its
   * command with it plus the field's response key.
   */
  readonly requestKey?: string;
}
