/**
 * One GraphQL subscription on one node over graphql-ws, as an async iterator that ends (rather
 * than retries) when the node goes away: the callers decide where to resume.
 */
import { Repeater } from '@repeaterjs/repeater';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ApiError } from '../../api/errors.js';
import type { TypedDocumentString } from '../../schema/generated/graphql.js';
import { dateReviver, type Revived } from '../ports/remote-graphql.js';

export function wsUrlOf(httpUrl: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}/graphql`;
}

/**
 * A node that accepts the TCP connection but never answers the upgrade (starting, paused) would
 * hold a feed in CONNECTING forever: `ws` has no handshake timeout unless asked for one.
 */
class BoundedHandshakeWebSocket extends WebSocket {
  constructor(address: string, protocols?: string | string[]) {
    super(address, protocols, { handshakeTimeout: 5_000 });
  }
}

/** Thrown into the iterator when the node refused the subscription itself (bad arguments…). */
export class SubscriptionRefusedError extends Error {}

export function subscribeOnNode<R, V, F extends keyof R & string>(
  nodeUrl: string,
  query: TypedDocumentString<R, V>,
  variables: V,
  field: F,
  onConnected?: () => void,
): Repeater<Revived<R[F]>> {
  type T = Revived<R[F]>;
  return new Repeater<T>(async (push, stop) => {
    const client = createClient({
      url: wsUrlOf(nodeUrl),
      webSocketImpl: BoundedHandshakeWebSocket,
      lazy: true,
      retryAttempts: 0,
      // A node that accepts the socket but never acknowledges it (busy, dying) must not hold a
      // feed forever: give up and let the caller resume elsewhere.
      connectionAckWaitTimeout: 5_000,
      keepAlive: 10_000,
      on: { connected: () => onConnected?.() },
      jsonMessageReviver: dateReviver,
    });
    const unsubscribe = client.subscribe<Record<string, T>>(
      { query: String(query), variables: variables as Record<string, unknown> },
      {
        next: (result) => {
          const first = result.errors?.[0];
          if (first) {
            const { code, ...rest } = (first.extensions ?? {}) as Record<string, unknown>;
            stop(new ApiError(String(code) as ApiError['code'], first.message, rest));
            return;
          }
          const value = result.data?.[field];
          if (value !== undefined) void push(value);
        },
        error: () => stop(),
        complete: () => stop(),
      },
    );
    await stop;
    unsubscribe();
    await client.dispose();
  });
}
