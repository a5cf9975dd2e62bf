/**
 * Exponential backoff with jitter, for what the mailer retries forever (the gateway feed, an
 * alert while SMTP is down): quick at first, so a short blip costs little, then at most one
 * try per `maxMs`, and spread out so that restarted services do not all retry in step.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export class Backoff {
  private failures = 0;

  constructor(
    private readonly minMs = 500,
    private readonly maxMs = 30_000,
  ) {}

  /** The wait before the next try: between half and all of min·2^failures, capped at max. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures, 30));
    this.failures += 1;
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  reset(): void {
    this.failures = 0;
  }
}

/** Waits `ms`, or less if `signal` aborts; never throws. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => {});
}
