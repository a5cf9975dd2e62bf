/** The environment variables a config schema reads: the keys of the object under its transforms. */
import { z } from 'zod';

export function schemaKeys(schema: z.ZodType): string[] {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodPipe) inner = inner.in as z.ZodType;
  if (!(inner instanceof z.ZodObject)) throw new Error('not a z.object(…) config schema');
  return Object.keys(inner.shape);
}
