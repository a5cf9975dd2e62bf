/**
 * DATABASE_URL in libpq's URL form, with one host or several:
 * `postgres://user:pass@h1:5432,h2:5432/db?target_session_attrs=read-write`.
 *
 * pg (pg-connection-string 2.14, the newest) parses one host only and throws "Invalid URL" on a
 * list, and no maintained npm package parses libpq's list. So the host list is split here, and each
 * host's own URL (the same URL with that one host) is left to pg-connection-string, which keeps
 * everything else (user, password, database, sslmode…) exactly as pg reads it today.
 */
import type pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';

/**
 * What a host must be for the node to keep a connection to it (libpq's names): `any` takes the
 * first host that answers; `read-write` one whose sessions are not read-only; `primary` one not
 * in recovery (not a standby).
 */
export type TargetSessionAttrs = 'any' | 'read-write' | 'primary';

export interface DatabaseHost {
  /** host:port, for messages and logs (never the password). */
  readonly name: string;
  /** pg's settings for a connection to this host. */
  readonly config: pg.ClientConfig;
}

export interface DatabaseUrl {
  /** In the URL's order: the order libpq tries them in. */
  readonly hosts: readonly DatabaseHost[];
  readonly targetSessionAttrs: TargetSessionAttrs;
}

export class DatabaseUrlError extends Error {}

const ACCEPTED: readonly string[] = ['any', 'read-write', 'primary'];
/** libpq's other values: each would let the node keep a standby, where it cannot write. */
const STANDBY_VALUES: readonly string[] = ['read-only', 'standby', 'prefer-standby'];

export function parseDatabaseUrl(text: string): DatabaseUrl {
  const parts = /^(postgres(?:ql)?:\/\/)([^/?#]*)(.*)$/.exec(text);
  if (!parts || /\s/.test(text)) throw new DatabaseUrlError('must be a postgres:// URL');
  const [, scheme = '', authority = '', rest = ''] = parts;
  const at = authority.lastIndexOf('@');
  const userinfo = authority.slice(0, at + 1);
  const hostList = authority.slice(at + 1).split(',');

  const { path, query } = splitQuery(rest);
  const attrs = query.get('target_session_attrs') ?? 'any';
  query.delete('target_session_attrs');
  const targetSessionAttrs = checkTargetSessionAttrs(attrs, hostList.length);
  const tail = path + (query.size > 0 ? `?${query.toString()}` : '');

  const hosts = hostList.map((host, i) => {
    const where = hostList.length > 1 ? `host ${i + 1} of ${hostList.length}` : 'the host';
    if (hostList.length > 1) checkHost(host, where);
    let config: pg.ClientConfig;
    try {
      config = parseIntoClientConfig(scheme + userinfo + host + tail);
    } catch (error) {
      throw new DatabaseUrlError(`is not a valid URL (${where}: ${(error as Error).message})`);
    }
    return { name: `${config.host ?? ''}:${config.port ?? 5432}`, config };
  });
  return { hosts, targetSessionAttrs };
}

function splitQuery(rest: string): { path: string; query: URLSearchParams } {
  const hash = rest.indexOf('#');
  const withoutHash = hash < 0 ? rest : rest.slice(0, hash);
  const q = withoutHash.indexOf('?');
  if (q < 0) return { path: withoutHash, query: new URLSearchParams() };
  return { path: withoutHash.slice(0, q), query: new URLSearchParams(withoutHash.slice(q + 1)) };
}

function checkTargetSessionAttrs(value: string, hostCount: number): TargetSessionAttrs {
  if (STANDBY_VALUES.includes(value)) {
    throw new DatabaseUrlError(
      `has target_session_attrs=${value}, which would connect to a standby; the nodes write, so use read-write (or primary)`,
    );
  }
  if (!ACCEPTED.includes(value)) {
    throw new DatabaseUrlError(`has target_session_attrs=${value}; use read-write (or primary, or any)`);
  }
  if (value === 'any' && hostCount > 1) {
    throw new DatabaseUrlError(
      `lists ${hostCount} hosts but not target_session_attrs=read-write: without it (libpq's any) a node could stay on a standby, where it cannot write`,
    );
  }
  return value as TargetSessionAttrs;
}

/** One host of a list: `name`, `name:port`, `[v6]` or `[v6]:port`, not empty. */
function checkHost(host: string, where: string): void {
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::(.*))?$/.exec(host);
  if (!m || m[1] === '' || m[1] === '[]')
    throw new DatabaseUrlError(`has no hostname in ${where} ("${host}")`);
  const port = m[2];
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535)) {
    throw new DatabaseUrlError(`has an invalid port in ${where} ("${host}"): use 1 to 65535`);
  }
}
