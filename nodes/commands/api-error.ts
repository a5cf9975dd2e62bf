import { ApiError } from '../../api/errors.js';
import { DomainError } from '../domain/domain-error.js';
import { isPrimaryLost } from '../store/primary-lost.js';
import { NotLeaderError, VersionConflictError } from '../store/store-errors.js';
import type { FenceAccess } from './fence-access.js';

/** Every refusal of a command as the API's error codes (anything else stays an internal error). */
export function apiErrorOf(error: unknown, fence: FenceAccess): unknown {
  if (error instanceof ApiError) return error;
  if (error instanceof DomainError) return new ApiError(error.code, error.message, apiDetails(error));
  if (error instanceof NotLeaderError) return fence.fenceLost(error);
  if (error instanceof VersionConflictError) {
    return ApiError.conflict(error.message, { expectedVersion: error.expected, actualVersion: error.actual });
  }
  // The database primary moved under the write (a failover): the outcome is unknown, so the
  // client is told to retry — with the same idempotency key, which makes the retry safe.
  if (isPrimaryLost(error)) {
    return ApiError.serviceUnavailable(
      'the database primary changed during the write; retry with the same Idempotency-Key',
    );
  }
  return error;
}

/**
 * A decider's version conflict says `expected`/`actual`; the API's CONFLICT says `expectedVersion`/
 * `actualVersion` (as it does for a conflict found by the store), whichever check caught it.
 */
function apiDetails(error: DomainError): Record<string, unknown> {
  const { expected, actual, ...rest } = error.details ?? {};
  if (error.code !== 'CONFLICT' || typeof expected !== 'number' || typeof actual !== 'number') {
    return error.details ?? {};
  }
  return { ...rest, expectedVersion: expected, actualVersion: actual };
}
