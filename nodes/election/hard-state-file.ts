/**
 * Term and vote on this node's own disk, as Raft keeps them: replaced atomically and durably
 * (common/atomic-file.ts), so a crash at any instant leaves either the old state or the new
 * one. Writes are synchronous on purpose: the election must not answer before its term and
 * vote are durable.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomically } from '../../common/atomic-file.js';
import type { HardState } from './raft-election.js';

const stored = z.strictObject({
  version: z.literal(1),
  term: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  votedFor: z.string().min(1).nullable(),
});

export class HardStateFile {
  constructor(readonly path: string) {}

  /** The stored state; a missing file is a fresh node. A damaged file is an error, never a reset:
   * forgetting a term or a vote could let this node vote twice in one term. */
  load(): HardState {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { term: 0, votedFor: null };
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${this.path} is damaged (not JSON); refusing to start with a forgotten term and vote`);
    }
    const result = stored.safeParse(parsed);
    if (!result.success) {
      throw new Error(`${this.path} is damaged (${result.error.issues[0]?.message}); refusing to start`);
    }
    return { term: result.data.term, votedFor: result.data.votedFor };
  }

  save(state: HardState): void {
    writeFileAtomically(
      this.path,
      `${JSON.stringify({ version: 1, term: state.term, votedFor: state.votedFor })}\n`,
    );
  }
}
