/**
 * The one error the deciders throw for a rejected command. `code` is what the GraphQL layer maps
 * to `extensions.code`; the message is meant for the person who sent the command.
 */
import type { z } from 'zod';

export type DomainErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT';

export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  static badInput(message: string, details?: Record<string, unknown>): DomainError {
    return new DomainError('BAD_USER_INPUT', message, details);
  }

  static notFound(message: string, details?: Record<string, unknown>): DomainError {
    return new DomainError('NOT_FOUND', message, details);
  }

  static conflict(message: string, details?: Record<string, unknown>): DomainError {
    return new DomainError('CONFLICT', message, details);
  }

  /** A zod failure as "field: what it must be", naming only the first issue so the message stays short. */
  static fromZod(error: z.ZodError, prefix = '', details?: Record<string, unknown>): DomainError {
    const issue = error.issues[0];
    const field = issue?.path.map(String).join('.') ?? '';
    const message = issue?.message ?? 'is invalid';
    return DomainError.badInput(`${prefix}${field ? `${field}: ` : ''}${message}`, {
      ...details,
      field: field || undefined,
    });
  }
}
