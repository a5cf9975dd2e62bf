/** One pino logger per process, JSON lines on stdout, tagged with the service's name. */
import { type LevelWithSilent, type Logger, pino } from 'pino';

export function createLogger(
  service: string,
  level: LevelWithSilent = 'info',
  extra: Record<string, unknown> = {},
): Logger {
  return pino({ level, base: { service, ...extra }, timestamp: pino.stdTimeFunctions.isoTime });
}
