/**
 * Tells the gateway that this node leads a term, signed, retrying with backoff until the gateway
 * acknowledges it or this node no longer leads that term.
 */
import type { Logger } from 'pino';
import { ANNOUNCE_PATH, SIGNATURE_HEADER, signBody } from '../../common/announcement.js';
import { httpRequest } from '../../common/http-client.js';

export class GatewayAnnouncer {
  private generation = 0;

  constructor(
    private readonly options: {
      gatewayUrl: string;
      secret: string;
      clusterId: string;
      nodeId: string;
      nodeUrl: string;
      logger: Logger;
    },
  ) {}

  /**
   * Announce `term`; `stillLeading` is asked before every attempt. Cancels any earlier
   * announcement. Resolves with how it ended (callers need not wait for it).
   */
  announce(term: number, stillLeading: () => boolean): Promise<'acknowledged' | 'refused' | 'abandoned'> {
    const generation = ++this.generation;
    return this.loop(term, () => generation === this.generation && stillLeading());
  }

  cancel(): void {
    this.generation++;
  }

  private async loop(
    term: number,
    current: () => boolean,
  ): Promise<'acknowledged' | 'refused' | 'abandoned'> {
    const { gatewayUrl, secret, clusterId, nodeId, nodeUrl, logger } = this.options;
    let delay = 100;
    for (let attempt = 1; current(); attempt++) {
      const body = JSON.stringify({ clusterId, nodeId, url: nodeUrl, term, at: new Date().toISOString() });
      try {
        const res = await httpRequest(new URL(ANNOUNCE_PATH, gatewayUrl).href, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signBody(secret, body) },
          body,
          timeoutMs: 2_000,
        });
        if (res.status >= 200 && res.status < 300) {
          logger.info({ term, gateway: gatewayUrl, attempt }, 'leadership announced to the gateway');
          return 'acknowledged';
        }
        const text = res.body.toString('utf8').slice(0, 200);
        // A refusal for a lower term than the gateway knows is final: a newer leader exists.
        if (res.status === 409) {
          logger.warn(
            { term, status: res.status, reply: text },
            'gateway knows a newer leader; not announcing',
          );
          return 'refused';
        }
        logger.warn(
          { term, status: res.status, reply: text, attempt },
          'gateway refused the announcement; retrying',
        );
      } catch (error) {
        if (attempt === 1 || attempt % 10 === 0) {
          logger.warn({ term, err: (error as Error).message, attempt }, 'gateway unreachable; retrying');
        }
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
    return 'abandoned';
  }
}
