/**
 * Environment configuration, validated with zod at start. A wrong value ends the process with
 * one clear line naming the variable, what it must be and what it was; never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_MAX_UPLOAD_BYTES } from './limits.js';

export class ConfigError extends Error {}

export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = issue?.path.join('.') || 'environment';
  const value = typeof issue?.path[0] === 'string' ? env[issue.path[0]] : undefined;
  const shown = value === undefined ? undefined : withoutPassword(value);
  const got =
    shown === undefined ? 'it is not set' : `got "${shown.length > 80 ? `${shown.slice(0, 80)}…` : shown}"`;
  throw new ConfigError(`${name}: ${issue?.message ?? 'invalid'} (${got})`);
}

/** A URL's password (scheme://user:password@…) masked: error lines end up in logs and terminals. */
export function withoutPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/i, '$1:***@');
}

/** Parse the config or exit(2) with one line on stderr. */
export function loadConfigOrExit<S extends z.ZodType>(
  service: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: invalid configuration: ${error.message}\n`);
    process.exit(2);
  }
}

export const logLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message: 'must be one of fatal, error, warn, info, debug, trace, silent',
  })
  .default('info');

/** A whole number of milliseconds within [min, max]. */
export const millis = (min: number, max: number, fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((text, ctx) => {
      const n = Number(text.trim());
      if (!/^\s*\d+\s*$/.test(text) || n < min || n > max) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a whole number of milliseconds from ${min} to ${max}`,
        });
        return z.NEVER;
      }
      return n;
    });

/** A range "min-max" of milliseconds, such as 150-300. */
export const millisRange = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
      const min = Number(m?.[1]);
      const max = Number(m?.[2]);
      if (!m || !(min >= 10 && max >= min && max <= 60_000)) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a range like 150-300 (ms, 10 ≤ min ≤ max ≤ 60000)',
        });
        return z.NEVER;
      }
      return { min, max };
    });

export const port = z.coerce
  .number({ message: 'must be a port number' })
  .int({ message: 'must be a whole port number' })
  .min(1, { message: 'must be a port from 1 to 65535' })
  .max(65535, { message: 'must be a port from 1 to 65535' });

export const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' });

/**
 * OTEL_EXPORTER_OTLP_ENDPOINT: the OTLP/HTTP collector traces go to (such as http://jaeger:4318,
 * the exporter appends /v1/traces); unset or empty, tracing is off (common/tracing.ts).
 */
export const otlpEndpoint = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text.trim() === '') return undefined;
    if (!httpUrl.safeParse(text.trim()).success) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be the http:// or https:// URL of an OTLP/HTTP collector, such as http://localhost:4318',
      });
      return z.NEVER;
    }
    return text.trim();
  });

/** A size limit in bytes for uploads (default 10 MiB). */
export const maxUploadBytes = z.coerce
  .number({ message: 'must be a number of bytes' })
  .int({ message: 'must be a whole number of bytes' })
  .min(1024, { message: 'must be at least 1024 bytes' })
  .max(1024 * 1024 * 1024, { message: 'must be at most 1 GiB' })
  .default(DEFAULT_MAX_UPLOAD_BYTES);

/**
 * The path of a PEM file of CA certificates (a private CA to trust for TLS besides the system's),
 * read at start: the value is the file's text. Unreadable or without a certificate: one clear
 * line naming the variable.
 */
export const pemCaFile = z
  .string()
  .min(1, { message: 'must be the path of a PEM file of CA certificates' })
  .transform((path, ctx) => {
    try {
      const pem = readFileSync(path, 'utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
      return pem;
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a readable PEM file of CA certificates (${(error as Error).message})`,
      });
      return z.NEVER;
    }
  });
