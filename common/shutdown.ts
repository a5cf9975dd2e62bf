/**
 * How every service process stops: on SIGINT, SIGTERM, or its launcher going away (the launcher
 * holds a pipe on our stdin: when it dies, even by SIGKILL, the pipe closes and we follow instead
 * of lingering as an orphan). The stop runs once, and must end: whatever is still pending after
 * the deadline is abandoned.
 */
import type { Logger } from 'pino';

const DEADLINE_MS = 5_000;

/** Installs the handlers; returns `isStopping()` for start-up code that races a stop. */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): { isStopping(): boolean } {
  let stopping = false;
  const run = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    setTimeout(() => {
      logger.warn('shutdown deadline passed; exiting anyway');
      process.exit(1);
    }, DEADLINE_MS).unref();
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
  return { isStopping: () => stopping };
}
