/**
 * Term and vote on this node's own disk, as Raft keeps them. Writes are synchronous on purpose:
 * the election must not answer before its term and vote are durable.
 *
 * The file holds two slots of one disk sector each, written in turn, in place: a save is one
 * write of a sector and one `fdatasync`, like an append to etcd's WAL. (Replacing a whole file —
 * write a temporary one, fsync, rename, fsync the directory — cost 2–6 ms here, twice per vote
 * round: the candidate's save, then the voter's, both before their messages go out.) Each slot
 * is one JSON line with a sequence number and a CRC-32 of its content; a load takes the valid slot
 * with the higher sequence. A save cut short by a crash can damage only the slot it was writing,
 * whose state no message has depended on yet (the save had not returned): the other slot holds
 * the state before it. Both slots damaged is an error, never a reset.
 *
 * A file of the first layout (one JSON object, replaced whole) is read as it is, and rewritten in
 * this layout, atomically, by the first save.
 */
import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { writeFileAtomically } from '../../common/atomic-file.js';
import type { HardState } from './raft-election.js';

/** One disk sector: a slot is written whole by one write. */
const SLOT_BYTES = 512;

const term = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const votedFor = z.string().min(1).nullable();
const firstLayout = z.strictObject({ version: z.literal(1), term, votedFor });
const slotRecord = z.strictObject({
  version: z.literal(2),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  term,
  votedFor,
  crc: z.number().int(),
});

interface Slotted {
  readonly seq: number;
  readonly state: HardState;
}

export class HardStateFile {
  /** The last sequence number written or read (0: none yet). */
  private seq = 0;
  /** Open for in-place saves once the file has the slotted layout. */
  private fd: number | null = null;

  constructor(readonly path: string) {}

  /** The stored state; a missing file is a fresh node. A damaged file is an error, never a reset:
   * forgetting a term or a vote could let this node vote twice in one term. */
  load(): HardState {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { term: 0, votedFor: null };
      throw error;
    }
    if (bytes.length !== 2 * SLOT_BYTES) return this.loadFirstLayout(bytes.toString('utf8'));
    const slots = [0, 1].map((i) => readSlot(bytes.subarray(i * SLOT_BYTES, (i + 1) * SLOT_BYTES)));
    const valid = slots.filter((s): s is Slotted => s !== null).sort((a, b) => b.seq - a.seq);
    const newest = valid[0];
    if (!newest) throw new Error(`${this.path} is damaged (no valid slot); refusing to start`);
    this.seq = newest.seq;
    this.fd = openSync(this.path, 'r+');
    return newest.state;
  }

  save(state: HardState): void {
    this.seq += 1;
    const slot = this.seq % 2;
    const record = slotBytes(this.seq, state);
    if (this.fd === null) {
      // No file yet, or one of the first layout: lay it out afresh, atomically, then keep it
      // open for in-place saves.
      const image = Buffer.alloc(2 * SLOT_BYTES, ' ');
      record.copy(image, slot * SLOT_BYTES);
      writeFileAtomically(this.path, image.toString('utf8'));
      this.fd = openSync(this.path, 'r+');
      return;
    }
    writeSync(this.fd, record, 0, SLOT_BYTES, slot * SLOT_BYTES);
    fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private loadFirstLayout(text: string): HardState {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${this.path} is damaged (not JSON); refusing to start with a forgotten term and vote`);
    }
    const result = firstLayout.safeParse(parsed);
    if (!result.success) {
      throw new Error(`${this.path} is damaged (${result.error.issues[0]?.message}); refusing to start`);
    }
    return { term: result.data.term, votedFor: result.data.votedFor };
  }
}

/** What the CRC covers: the record's fields, in this order. */
function recordText(seq: number, state: HardState): string {
  return JSON.stringify({ version: 2, seq, term: state.term, votedFor: state.votedFor });
}

function slotBytes(seq: number, state: HardState): Buffer {
  const text = recordText(seq, state);
  const line = `${text.slice(0, -1)},"crc":${crc32(text)}}\n`;
  const bytes = Buffer.alloc(SLOT_BYTES, ' ');
  if (bytes.write(line, 'utf8') < Buffer.byteLength(line)) {
    throw new Error(`a term and vote record does not fit in ${SLOT_BYTES} bytes`);
  }
  return bytes;
}

/** A slot's record, or null when it is blank or damaged (a save cut short). */
function readSlot(bytes: Buffer): Slotted | null {
  const text = bytes.toString('utf8').trim();
  if (text === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const result = slotRecord.safeParse(parsed);
  if (!result.success) return null;
  const { seq, crc, ...state } = result.data;
  const hardState = { term: state.term, votedFor: state.votedFor };
  return crc32(recordText(seq, hardState)) === crc ? { seq, state: hardState } : null;
}
