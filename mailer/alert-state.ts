/**
 * What the alert service must not forget across restarts: the last leader change it alerted
 * (its term is the line below which nothing is sent again) and the changes it accepted but has
 * not sent yet (SMTP was down). A small JSON file, replaced atomically on every change, so a
 * crash leaves the old state or the new one. A damaged file stops the service rather than being
 * reset, because a reset would alert every term again.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomically } from '../common/atomic-file.js';
import { type LeaderChange, leaderChangeSchema } from './leader-change.js';

export interface AlertState {
  readonly lastAlerted: LeaderChange | null;
  /** Oldest first, terms ascending, every term above lastAlerted's. */
  readonly pending: readonly LeaderChange[];
}

const stored = z.strictObject({
  version: z.literal(1),
  lastAlerted: leaderChangeSchema.nullable(),
  pending: z.array(leaderChangeSchema),
});

export class AlertStateFile {
  constructor(readonly path: string) {}

  /** The stored state; a missing file is a first start. */
  load(): AlertState {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lastAlerted: null, pending: [] };
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${this.path} is damaged (not JSON); delete it to alert from scratch`);
    }
    const parsed = stored.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `${this.path} is damaged (${issue?.path.join('.')}: ${issue?.message}); delete it to alert from scratch`,
      );
    }
    return { lastAlerted: parsed.data.lastAlerted, pending: parsed.data.pending };
  }

  save(state: AlertState): void {
    writeFileAtomically(this.path, `${JSON.stringify({ version: 1, ...state }, null, 2)}\n`);
  }
}
