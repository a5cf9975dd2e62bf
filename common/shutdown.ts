/**
 * How a service process ends: on SIGINT or SIGTERM, or, when a launcher (npm start, the tests)
 * started it with ENSEMBLE_EXIT_WITH_PARENT=1 and a pipe on stdin, when that pipe closes because
 * the launcher died (even by SIGKILL), so that no orphan lingers. The stop runs once, and must
 * end: whatever is still pending after the deadline is abandoned.
 */
import type { Logger } from 'pino';

export interface Shutdown {
  /** A stop was asked for: a start still under way should not go on. */
  readonly requested: boolean;
}

/** How long a stop may take before the process exits anyway. */
export const STOP_DEADLINE_MS = 5_000;

export function stopOnSignals(
  logger: Logger,
  stop: () => Promise<void>,
  deadlineMs = STOP_DEADLINE_MS,
): Shutdown {
  const state = { requested: false };
  const run = async (signal: string) => {
    if (state.requested) return;
    state.requested = true;
    logger.info({ signal }, 'stopping');
    setTimeout(() => {
      logger.warn('shutdown deadline passed; exiting anyway');
      process.exit(1);
    }, deadlineMs).unref();
    try {
      await stop();
    } catch (error) {
      logger.error({ err: error }, 'stop failed');
      process.exit(1);
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void run('SIGINT'));
  process.on('SIGTERM', () => void run('SIGTERM'));
  if (process.env.ENSEMBLE_EXIT_WITH_PARENT === '1') {
    process.stdin.on('end', () => void run('launcher exited'));
    process.stdin.resume();
  }
  return state;
}
