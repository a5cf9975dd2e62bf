/**
 * The stored-file aggregate, one stream `file-<sha256>` per content: a file is stored once, however
 * often or under whatever name it is uploaded again. The bytes themselves go to the content-addressed
 * blob table; the event records that they were accepted and how many listings they carried.
 *
 * Listings: a name ending in `.json` promises a listings file, so anything else in it is refused
 * (nothing stored). Any other name is sniffed: content that parses as a listings file is imported,
 * anything else is stored as a plain file with importedListings 0. The listings themselves are the
 * listing decider's: an upload is a StoreFile for this stream plus an UpsertListing per listing,
 * decided together by the command handler (nodes/commands/file-commands.ts).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { charCount } from '../../common/char-count.js';
import type { DomainEvent } from '../../schema/events.js';
import type { ListingInput } from '../../schema/listing-input.js';
import type { Decider } from './decider.js';
import { DomainError } from './domain-error.js';
import { parseListingsFile } from './listings-file.js';

export const FILE_NAME_MAX = 255;

export type FileEvent = Extract<DomainEvent, { type: 'FileStored' }>;

export interface StoredFile {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly importedListings: number;
}

export interface FileState {
  readonly stored: boolean;
  readonly version: number;
  readonly file?: StoredFile;
}

export interface StoreFile {
  readonly type: 'StoreFile';
  readonly id: string;
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Lowercase hex sha256 of `bytes`, as the caller computed it for the blob key; checked here. */
  readonly sha256: string;
  /** The listings the upload carries, one per url (see storeFileCommand); counted in FileStored. */
  readonly listings: readonly ListingInput[];
}

/** An upload as it arrives, before its listings are read. */
export type Upload = Omit<StoreFile, 'type' | 'listings'>;

export const initialFileState: FileState = { stored: false, version: 0 };

const uuid = z.uuid();
// C0, DEL and C1 controls: they corrupt logs, terminals and Content-Disposition headers.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The name to keep: browsers and FTP clients may send a path, so only its last segment (after `/`
 * or `\`) is kept rather than refusing the upload; control characters are refused.
 */
export function fileBaseName(name: string): string {
  if (typeof name !== 'string') throw DomainError.badInput('name: must be text', { field: 'name' });
  if (CONTROL.test(name)) {
    throw DomainError.badInput('name: must not contain control characters', { field: 'name' });
  }
  const base = (name.split(/[/\\]/).pop() ?? '').trim();
  if (base === '' || base === '.' || base === '..') {
    throw DomainError.badInput('name: must name a file', { field: 'name' });
  }
  const n = charCount(base);
  if (n > FILE_NAME_MAX) {
    throw DomainError.badInput(`name: must be at most ${FILE_NAME_MAX} characters (got ${n})`, {
      field: 'name',
    });
  }
  return base;
}

/**
 * The StoreFile command for an upload, given its stream's state: the content is read for listings
 * only when the file is new (a re-upload is free, and its listings were imported the first time).
 */
export function storeFileCommand(upload: Upload, state: FileState): StoreFile {
  const listings = state.stored ? [] : listingsIn(fileBaseName(upload.name), upload.bytes);
  return { type: 'StoreFile', ...upload, listings };
}

export function decideStoreFile(command: StoreFile, state: FileState): FileEvent[] {
  if (!uuid.safeParse(command.id).success) throw DomainError.badInput('id: must be a UUID', { field: 'id' });
  const name = fileBaseName(command.name);
  if (!(command.bytes instanceof Uint8Array)) {
    throw DomainError.badInput('bytes: must be the file content', { field: 'bytes' });
  }
  if (typeof command.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(command.sha256)) {
    throw DomainError.badInput('sha256: must be 64 lowercase hex digits', { field: 'sha256' });
  }
  // The stream is keyed by this hash, so a wrong one would file the bytes under another identity.
  const actual = createHash('sha256').update(command.bytes).digest('hex');
  if (actual !== command.sha256) {
    throw DomainError.badInput('sha256: does not match the content', {
      field: 'sha256',
      expected: command.sha256,
      actual,
    });
  }
  if (state.stored) return [];
  const event: FileEvent = {
    type: 'FileStored',
    data: {
      id: command.id,
      name,
      size: command.bytes.byteLength,
      sha256: command.sha256,
      importedListings: command.listings.length,
    },
  };
  return [event];
}

export function evolveFile(state: FileState, event: FileEvent): FileState {
  // FileStored is the only event; a second one (which decide never emits) would not replace the first.
  if (state.stored) return { ...state, version: state.version + 1 };
  return { stored: true, version: state.version + 1, file: { ...event.data } };
}

export const fileDecider: Decider<StoreFile, FileEvent, FileState> = {
  decide: decideStoreFile,
  evolve: evolveFile,
  initialState: initialFileState,
  eventTypes: ['FileStored'],
};

function listingsIn(name: string, bytes: Uint8Array): ListingInput[] {
  if (name.toLowerCase().endsWith('.json')) {
    try {
      return parseListingsFile(bytes);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      throw DomainError.badInput(`${name} is not a valid listings file: ${error.message}`, {
        ...error.details,
        name,
      });
    }
  }
  if (!looksLikeJsonArray(bytes)) return [];
  try {
    return parseListingsFile(bytes);
  } catch (error) {
    if (error instanceof DomainError) return [];
    throw error;
  }
}

/** Skip decoding and parsing binaries: a JSON array starts with `[` after an optional BOM and whitespace. */
function looksLikeJsonArray(bytes: Uint8Array): boolean {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)
  ) {
    i++;
  }
  return bytes[i] === 0x5b;
}
