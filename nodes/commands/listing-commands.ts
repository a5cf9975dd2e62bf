/**
 * upsertListing through handleCommand; upsertListings and a file's listings set-based: one read
 * of every stream (and key), a decision per listing in memory (decideMany), the appends together.
 */
import type { ListingDto, ListingInputDto } from '../../api/ports.js';
import { streams } from '../../schema/events.js';
import type { ListingInput } from '../../schema/listing-input.js';
import {
  type ListingCommand,
  type ListingEvent,
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
  const items = inputs.map((input, index) => ({
    index,
    input,
    key: idempotencyKeys?.[index],
    stream: streamOf(input.url),
  }));
  const given = [...new Set(items.flatMap((item) => (item.key === undefined ? [] : [item.key])))];
  const { histories, firsts } = await store.readStreamsAndKeys(
    [...new Set(items.map((i) => i.stream))],
    given,
  );
  for (const first of firsts.values()) checkRepeat(first, first.stream, { repeatOf });
  const elsewhere = [...firsts.values()].map((e) => e.stream).filter((s) => !histories.has(s));
  for (const [stream, events] of await store.readStreams([...new Set(elsewhere)]))
    histories.set(stream, events);

  const answers: (ListingDto | undefined)[] = [];
  const fresh: ((typeof items)[number] & { command: ListingCommand })[] = [];
  for (const item of items) {
    const first = item.key === undefined ? undefined : firsts.get(item.key);
    if (first) answers[item.index] = repeatAnswer(histories.get(first.stream) ?? [], first);
    else fresh.push({ ...item, command: upsertOf(item.input) });
  }
  const planned: { item: (typeof items)[number]; append: StreamAppend; answer: ListingDto }[] = [];
  for (const { of: item, after, append } of decideMany(listingDecider, fresh, histories)) {
    if (append) planned.push({ item, append, answer: listingAnswer(after) });
    else answers[item.index] = listingAnswer(after);
  }
  const results = await Promise.allSettled(
    store.appendAll(
      fence,
      planned.map((p) => ({ appends: [p.append], options: appendOptions(p.item.key) })),
    ),
  );
  const again: (typeof items)[number][] = [];
  for (const [n, { item, answer }] of planned.entries()) {
    const result = results[n];
    if (!result) throw new Error('unreachable: an append without a result');
    if (result.status === 'rejected') {
      if (!(result.reason instanceof VersionConflictError)) throw result.reason;
      again.push(item);
    } else if (result.value.kind === 'appended') {
      answers[item.index] = answer;
    } else {
      const first = result.value.first;
      answers[item.index] = repeatAnswer(await store.readStream(first.stream), first);
    }
  }
  // Met a concurrent writer (or an earlier listing of this request that did): one by one.
  for (const item of again) answers[item.index] = await upsertListing(context, item.input, item.key);
  return items.map(({ index }) => {
    const answer = answers[index];
    if (!answer) throw new Error('unreachable: a listing without an answer');
    return answer;
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
