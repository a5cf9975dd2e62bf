/**
 * uploadFile: the file decider through handleCommand, with the listings the file carries decided
 * by the listing decider set-based and appended in the same all-or-nothing append as its
 * FileStored (so a listings file is imported whole or not at all), its bytes beside them.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { StoredFileDto } from '../../api/ports.js';
import { streams } from '../../schema/events.js';
import { fileDecider, type StoreFile, storeFileCommand } from '../domain/file-decider.js';
import { fileAnswer } from './answers.js';
import { type CommandContext, handleCommand } from './handle-command.js';
import { listingAppends } from './listing-commands.js';

export async function uploadFile(
  context: CommandContext,
  file: { name: string; bytes: Buffer },
  idempotencyKey: string | undefined,
): Promise<StoredFileDto> {
  const sha256 = createHash('sha256').update(file.bytes).digest('hex');
  const upload = { id: randomUUID(), name: file.name, bytes: file.bytes, sha256 };
  // Read for listings once, not again on a retry after a concurrent writer.
  let command: StoreFile | undefined;
  const result = await handleCommand(
    fileDecider,
    streams.file(sha256),
    (state) => {
      if (!command || state.stored) command = storeFileCommand(upload, state);
      return command;
    },
    {
      ...context,
      idempotencyKey,
      repeatOf: ['FileStored'],
      alongside: (stored) => listingAppends(context, stored.listings),
      blobs: [{ sha256, content: file.bytes }],
    },
  );
  return fileAnswer(result);
}
