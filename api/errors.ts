/**
 * The API's refusals. Every error a client should act on is an ApiError whose
 * `extensions.code` is one of the contract's codes; anything else is masked as
 * INTERNAL_SERVER_ERROR by the server.
 */
import { GraphQLError } from 'graphql';

export const API_ERROR_CODES = [
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'NOT_FOUND',
  'CONFLICT',
  'NOT_LEADER',
  'NO_LEADER',
  // Not in the contract's list: an upload over the size limit (HTTP 413), and the gateway
  // finding no node to answer a read.
  'PAYLOAD_TOO_LARGE',
  'SERVICE_UNAVAILABLE',
  // transferLeadership: no new leader held the fence (and, on the gateway, announced itself) in time.
  'TRANSFER_TIMEOUT',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export interface LeaderRef {
  readonly id: string;
  readonly url: string;
}

export class ApiError extends GraphQLError {
  readonly code: ApiErrorCode;

  constructor(code: ApiErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
    this.name = 'ApiError';
    this.code = code;
  }

  static badUserInput(message: string, extensions?: Record<string, unknown>): ApiError {
    return new ApiError('BAD_USER_INPUT', message, extensions);
  }

  static unauthenticated(message: string): ApiError {
    return new ApiError('UNAUTHENTICATED', message);
  }

  static notFound(message: string): ApiError {
    return new ApiError('NOT_FOUND', message);
  }

  /** Expected version mismatch. */
  static conflict(
    message: string,
    versions?: { expectedVersion?: number; actualVersion?: number },
  ): ApiError {
    return new ApiError('CONFLICT', message, versions ?? {});
  }

  /** A write reached a node that is not the leader; `leader` lets the client retry there. */
  static notLeader(leader: LeaderRef | null, message?: string): ApiError {
    const text =
      message ??
      (leader
        ? `this node is not the leader; the leader is ${leader.id} at ${leader.url}`
        : 'this node is not the leader and no leader is known');
    return new ApiError('NOT_LEADER', text, leader ? { leader: { id: leader.id, url: leader.url } } : {});
  }

  static noLeader(message = 'no leader was elected within the wait; retry shortly'): ApiError {
    return new ApiError('NO_LEADER', message, { retryAfterMs: 1_000 });
  }

  /** A leadership transfer saw no new leader in time (the old one may lead on). */
  static transferTimeout(message: string): ApiError {
    return new ApiError('TRANSFER_TIMEOUT', message, { retryAfterMs: 1_000 });
  }

  static serviceUnavailable(message: string): ApiError {
    return new ApiError('SERVICE_UNAVAILABLE', message, { retryAfterMs: 1_000 });
  }

  /** `extensions.http` makes Apollo Server answer with that status (and is removed from the body). */
  static payloadTooLarge(limitBytes: number): ApiError {
    return new ApiError('PAYLOAD_TOO_LARGE', `the file exceeds the upload limit of ${limitBytes} bytes`, {
      limitBytes,
      http: { status: 413 },
    });
  }
}

const apiCodes: ReadonlySet<string> = new Set(API_ERROR_CODES);

/** True for an ApiError, or any GraphQLError carrying one of its codes (e.g. from another module copy). */
export function isApiError(error: unknown): boolean {
  if (error instanceof ApiError) return true;
  const code = error instanceof GraphQLError ? error.extensions.code : undefined;
  return typeof code === 'string' && apiCodes.has(code);
}
