/**
 * A read caught by a database failover (its connection to the old primary broke, or no host is
 * writable yet) is a refusal to retry, SERVICE_UNAVAILABLE, not a masked internal error: the
 * GraphQL server's `knownErrors` on a node. (Writes get the same answer from the command layer:
 * nodes/commands/api-error.ts.)
 */
import { ApiError } from '../../api/errors.js';
import { isPrimaryLost } from '../store/primary-lost.js';

export function databaseRefusals(error: unknown): ApiError | null {
  return isPrimaryLost(error)
    ? ApiError.serviceUnavailable('the database primary changed during the request (a failover); retry')
    : null;
}
