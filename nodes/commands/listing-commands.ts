/**
 * upsertListing through handleCommand; upsertListings and a file's listings set-based: one read
 * of every stream (and key), a decision per listing in memory (decideMany), the appends together.
 */
import type { ListingDto, ListingInputDto } from '../../api/ports.js';
import { streams } from '../../schema/events.js';
import {
  type ListingCommand,
  type ListingEvent,
  type ListingInput,
  listingDecider,
  listingStreamId,
} from '../domain/listing-decider.js';
import type { StreamAppend } from '../store/event-store.js';
import { VersionConflictError } from '../store/store-errors.js';
import type { StoredEvent } from '../store/stored-event.js';
import { listingAnswer } from './answers.js';
import { decideMany } from './decide-many.js';
import { appendOptions, type CommandContext, checkRepeat, handleCommand } from './handle-command.js';
import { fold, recordedOf, upTo } from './recorded-events.js';

/** A key used before for a listing of another url answers with that listing. */
const repeatOf: ListingEvent['type'][] = ['ListingAdded', 'ListingChanged'];

const streamOf = (url: string) => streams.listing(listingStreamId(url));

const upsertOf = (input: ListingInputDto): ListingCommand => ({
  type: 'UpsertListing',
  ...input,
  scrapedAt: input.scrapedAt.toISOString(),
});

export async function upsertListing(
  context: CommandContext,
  input: ListingInputDto,
  idempotencyKey: string | undefined,
): Promise<ListingDto> {
  const result = await handleCommand(listingDecider, streamOf(input.url), upsertOf(input), {
    ...context,
    idempotencyKey,
    repeatOf,
  });
  return listingAnswer(result.state);
}

/**
 * Many listings at once, set-based: each is still its own append with its own key and expected
 * version, all queued together so the store writes them as one batch. One that meets a concurrent
 * writer is done again on its own, as upsertListing would. Answers in input order.
 */
export async function upsertListings(
  context: CommandContext,
  inputs: readonly ListingInputDto[],
  idempotencyKeys: readonly (string | undefined)[] | undefined,
): Promise<ListingDto[]> {
  const { store, fence } = context;
  const keys = inputs.map((_, i) => idempotencyKeys?.[i]);
  const own = inputs.map((input) => streamOf(input.url));
  const given = [...new Set(keys.filter((k): k is string => k !== undefined))];
  const { histories, firsts } = await store.readStreamsAndKeys([...new Set(own)], given);
  for (const first of firsts.values()) checkRepeat(first, first.stream, { repeatOf });
  const elsewhere = [...firsts.values()].map((e) => e.stream).filter((s) => !histories.has(s));
  for (const [stream, events] of await store.readStreams([...new Set(elsewhere)]))
    histories.set(stream, events);

  const answers: (ListingDto | undefined)[] = inputs.map((_, i) => {
    const first = firsts.get(keys[i] as string);
    return first && repeatAnswer(histories.get(first.stream) ?? [], first);
  });
  const fresh = inputs.flatMap((input, i) => (answers[i] ? [] : [{ index: i, input }]));
  const decisions = decideMany(
    listingDecider,
    fresh.map(({ index, input }) => ({ stream: own[index] as string, command: upsertOf(input) })),
    histories,
  );
  const planned: { index: number; append: StreamAppend; answer: ListingDto }[] = [];
  decisions.forEach(({ after, append }, n) => {
    const { index } = fresh[n] as (typeof fresh)[number];
    if (append) planned.push({ index, append, answer: listingAnswer(after) });
    else answers[index] = listingAnswer(after);
  });
  const results = await Promise.allSettled(
    store.appendAll(
      fence,
      planned.map((p) => ({ appends: [p.append], options: appendOptions(keys[p.index]) })),
    ),
  );
  const again: number[] = [];
  for (const [n, result] of results.entries()) {
    const { index, answer } = planned[n] as (typeof planned)[number];
    if (result.status === 'rejected') {
      if (!(result.reason instanceof VersionConflictError)) throw result.reason;
      again.push(index);
    } else if (result.value.kind === 'appended') {
      answers[index] = answer;
    } else {
      const first = result.value.first;
      answers[index] = repeatAnswer(await store.readStream(first.stream), first);
    }
  }
  // Met a concurrent writer (or an earlier listing of this request that did): one by one.
  for (const index of again) {
    answers[index] = await upsertListing(context, inputs[index] as ListingInputDto, keys[index]);
  }
  return answers.map((a) => {
    if (!a) throw new Error('unreachable: a listing without an answer');
    return a;
  });
}

/** The appends that import a file's listings (one per listing that changes something). */
export async function listingAppends(
  context: CommandContext,
  listings: readonly ListingInput[],
): Promise<StreamAppend[]> {
  const commands = listings.map((listing) => ({
    stream: streamOf(listing.url),
    command: { type: 'UpsertListing', ...listing } as const,
  }));
  const histories = await context.store.readStreams([...new Set(commands.map((c) => c.stream))]);
  return decideMany(listingDecider, commands, histories).flatMap((d) => (d.append ? [d.append] : []));
}

/** The listing as the first append with a key left it. */
function repeatAnswer(history: readonly StoredEvent[], first: StoredEvent): ListingDto {
  return listingAnswer(fold(listingDecider, upTo(recordedOf(listingDecider, history), first.position)));
}
