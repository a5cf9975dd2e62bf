/** Opaque Relay cursors: base64url of a JSON tuple, validated on the way back in. */
import { ApiError } from '../../api/errors.js';

export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(cursor: string, shape: readonly ('string' | 'number')[]): (string | number)[] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = null;
  }
  if (
    !Array.isArray(parts) ||
    parts.length !== shape.length ||
    !parts.every((p, i) => typeof p === shape[i])
  ) {
    throw ApiError.badUserInput(`"after" is not a cursor returned by this query: ${cursor.slice(0, 60)}`);
  }
  return parts as (string | number)[];
}
