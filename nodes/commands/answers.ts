/** The API's answers (api/ports.ts DTOs) from a command's result. */
import { ApiError } from '../../api/errors.js';
import type { ListingDto, StoredFileDto, TaskDto } from '../../api/ports.js';
import type { FileEvent, FileState } from '../domain/file-decider.js';
import { type ListingState, listingStreamId } from '../domain/listing-decider.js';
import type { TaskEvent, TaskState } from '../domain/task-decider.js';
import type { CommandResult } from './handle-command.js';

export function taskAnswer({ events, state }: CommandResult<TaskEvent, TaskState>): TaskDto {
  const first = events[0];
  const last = events.at(-1);
  if (!state.task || !first || !last) throw ApiError.notFound('no such task');
  return { ...state.task, version: state.version, createdAt: first.createdAt, updatedAt: last.createdAt };
}

export function listingAnswer(state: ListingState): ListingDto {
  if (!state.listing) throw ApiError.notFound('no such listing');
  return {
    id: listingStreamId(state.listing.url),
    title: state.listing.title,
    url: state.listing.url,
    price: state.listing.price,
    currency: state.listing.currency,
    priceEur: state.listing.priceEur,
    scrapedAt: new Date(state.listing.scrapedAt),
    version: state.version,
  };
}

export function fileAnswer({ events, state }: CommandResult<FileEvent, FileState>): StoredFileDto {
  const first = events[0];
  if (!state.file || !first) throw ApiError.notFound('no such file');
  return { ...state.file, createdAt: first.createdAt };
}
