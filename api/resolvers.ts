/**
 * The contract's Query, Mutation and Subscription fields. Thin: arguments are checked for shape
 * here (and the request's idempotency keys, which are the API's), everything else (lengths of
 * the data, versions, leadership) is the ports' business.
 */
import 'reflect-metadata';
import type { GraphQLResolveInfo } from 'graphql';
import type { FileUpload } from 'graphql-upload-minimal';
import type { SubscribeResolverData } from 'type-graphql';
import {
  Arg,
  Args,
  Authorized,
  Ctx,
  ID,
  Info,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { MAX_IDEMPOTENCY_HEADER_LENGTH, MAX_IDEMPOTENCY_KEY_LENGTH } from '../common/limits.js';
import {
  Cluster,
  ClusterEvent,
  ClusterEventsSubscriptionArgs,
  CreateTaskArgs,
  DeleteTaskArgs,
  Event,
  EventsArgs,
  EventsSubscriptionArgs,
  LeaderChange,
  Listing,
  ListingConnection,
  ListingsArgs,
  StoredFile,
  Task,
  TaskConnection,
  TasksArgs,
  TransferLeadershipArgs,
  UpdateTaskArgs,
  UploadScalar,
  UpsertListingArgs,
  UpsertListingsArgs,
} from '../schema/graphql/index.js';
import { ProcessLocal } from '../schema/graphql/process-local.js';
import type { GraphqlContext } from './context.js';
import { ApiError } from './errors.js';
import {
  type ClusterDto,
  type ClusterEventDto,
  type EventDto,
  type LeaderChangeDto,
  type ListingDto,
  MAX_LISTINGS_PER_REQUEST,
  type Page,
  type StoredFileDto,
  type TaskDto,
  type TaskPatch,
} from './ports.js';

export const MAX_PAGE_SIZE = 500;

/** `first`: null means the default; anything outside 1..500 is refused. */
function pageSize(first: number | null | undefined, fallback: number): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
    throw ApiError.badUserInput(`\`first\` must be between 1 and ${MAX_PAGE_SIZE}, got ${n}`, {
      argument: 'first',
    });
  }
  return n;
}

function optionalText(value: string | null | undefined, name: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value.trim() === '') throw ApiError.badUserInput(`\`${name}\` must not be empty`, { argument: name });
  return value;
}

/**
 * The command's idempotency key: the argument when given, else the request's `Idempotency-Key`
 * header joined with the field's response key (one request may hold several mutations).
 */
function commandKey(
  argument: string | null | undefined,
  ctx: GraphqlContext,
  info: GraphQLResolveInfo,
): string | undefined {
  const given = clientKey(argument, 'idempotencyKey');
  if (given !== undefined || ctx.requestKey === undefined) return given;
  const key = `${clientKey(ctx.requestKey)}:${info.path.key}`;
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw ApiError.badUserInput(
      `the Idempotency-Key header and the field's alias \`${info.path.key}\` make a key over ${MAX_IDEMPOTENCY_KEY_LENGTH} characters: shorten either`,
    );
  }
  return key;
}

/**
 * A key as the client gave it, as an argument (named; at most MAX_IDEMPOTENCY_KEY_LENGTH
 * characters) or as the Idempotency-Key header (at most MAX_IDEMPOTENCY_HEADER_LENGTH): not blank.
 */
function clientKey(key: string | null | undefined, argument?: string): string | undefined {
  if (key === null || key === undefined) return undefined;
  const max = argument === undefined ? MAX_IDEMPOTENCY_HEADER_LENGTH : MAX_IDEMPOTENCY_KEY_LENGTH;
  if (key.trim() === '' || key.length > max) {
    const what = argument === undefined ? 'the Idempotency-Key header' : `\`${argument}\``;
    throw ApiError.badUserInput(
      `${what} must be 1-${max} characters`,
      argument === undefined ? {} : { argument },
    );
  }
  return key;
}

function optionalNonNegative(value: number | null | undefined, name: string): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (value < 0)
    throw ApiError.badUserInput(`\`${name}\` must be 0 or more, got ${value}`, { argument: name });
  return value;
}

function connection<T>(page: Page<T>) {
  return {
    edges: page.items.map(({ cursor, node }) => ({ cursor, node })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.items.at(-1)?.cursor ?? null },
  };
}

@Resolver()
export class QueryResolver {
  @Query(() => Cluster)
  cluster(@Ctx() ctx: GraphqlContext): Promise<ClusterDto> {
    return ctx.readModels.cluster();
  }

  @Query(() => TaskConnection)
  async tasks(@Args(() => TasksArgs) args: TasksArgs, @Ctx() ctx: GraphqlContext) {
    const first = pageSize(args.first, 50);
    const after = optionalText(args.after, 'after');
    const page = await ctx.readModels.tasks({
      first,
      ...(args.status != null ? { status: args.status } : {}),
      ...(after !== undefined ? { after } : {}),
    });
    return connection(page);
  }

  @Query(() => Task, { nullable: true })
  task(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<TaskDto | null> {
    return ctx.readModels.task(id);
  }

  @Query(() => ListingConnection, { description: '`minPrice`/`maxPrice` filter on `priceEur`, inclusive.' })
  async listings(@Args(() => ListingsArgs) args: ListingsArgs, @Ctx() ctx: GraphqlContext) {
    const { minPrice, maxPrice } = args;
    if (minPrice != null && maxPrice != null && minPrice > maxPrice) {
      throw ApiError.badUserInput(`\`minPrice\` (${minPrice}) is above \`maxPrice\` (${maxPrice})`, {
        argument: 'minPrice',
      });
    }
    const first = pageSize(args.first, 50);
    const after = optionalText(args.after, 'after');
    const page = await ctx.readModels.listings({
      first,
      ...(after !== undefined ? { after } : {}),
      ...(minPrice != null ? { minPrice } : {}),
      ...(maxPrice != null ? { maxPrice } : {}),
    });
    return connection(page);
  }

  @Query(() => [StoredFile])
  files(@Ctx() ctx: GraphqlContext): Promise<StoredFileDto[]> {
    return ctx.readModels.files();
  }

  @Query(() => [Event])
  events(@Args(() => EventsArgs) args: EventsArgs, @Ctx() ctx: GraphqlContext): Promise<EventDto[]> {
    const first = pageSize(args.first, 100);
    const afterPosition = optionalNonNegative(args.afterPosition, 'afterPosition');
    const stream = optionalText(args.stream, 'stream');
    return ctx.readModels.events({
      first,
      ...(afterPosition !== undefined ? { afterPosition } : {}),
      ...(stream !== undefined ? { stream } : {}),
    });
  }

  @Query(() => Int, {
    description:
      'Position of the newest event in the log (0 when empty): subscribe to `events` with it as `afterPosition` to miss nothing from here on.',
  })
  headPosition(@Ctx() ctx: GraphqlContext): Promise<number> {
    return ctx.readModels.headPosition();
  }
}

@Resolver()
export class MutationResolver {
  @Authorized()
  @Mutation(() => Task)
  createTask(
    @Args(() => CreateTaskArgs) args: CreateTaskArgs,
    @Ctx() ctx: GraphqlContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<TaskDto> {
    const { input } = args;
    return ctx.commands.createTask(
      {
        title: input.title,
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.status != null ? { status: input.status } : {}),
      },
      commandKey(args.idempotencyKey, ctx, info),
    );
  }

  @Authorized()
  @Mutation(() => Task)
  updateTask(
    @Args(() => UpdateTaskArgs) args: UpdateTaskArgs,
    @Ctx() ctx: GraphqlContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<TaskDto> {
    const { input } = args;
    // title and status can't be cleared; null for them is a mistake, not "unchanged".
    for (const field of ['title', 'status'] as const) {
      if (input[field] === null) {
        throw ApiError.badUserInput(`\`input.${field}\` cannot be null; leave it out to keep it`, {
          argument: `input.${field}`,
        });
      }
    }
    const patch: { -readonly [K in keyof TaskPatch]: TaskPatch[K] } = {};
    if (input.title != null) patch.title = input.title;
    if (input.description !== undefined) patch.description = input.description;
    if (input.status != null) patch.status = input.status;
    if (Object.keys(patch).length === 0) {
      throw ApiError.badUserInput('`input` must set at least one of title, description, status', {
        argument: 'input',
      });
    }
    return ctx.commands.updateTask(
      args.id,
      patch,
      optionalNonNegative(args.expectedVersion, 'expectedVersion'),
      commandKey(undefined, ctx, info),
    );
  }

  @Authorized()
  @Mutation(() => Boolean)
  deleteTask(
    @Args(() => DeleteTaskArgs) args: DeleteTaskArgs,
    @Ctx() ctx: GraphqlContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<boolean> {
    return ctx.commands.deleteTask(
      args.id,
      optionalNonNegative(args.expectedVersion, 'expectedVersion'),
      commandKey(undefined, ctx, info),
    );
  }

  @Authorized()
  @Mutation(() => Listing)
  upsertListing(
    @Args(() => UpsertListingArgs) args: UpsertListingArgs,
    @Ctx() ctx: GraphqlContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ListingDto> {
    const { title, url, price, currency, priceEur, scrapedAt } = args.input;
    return ctx.commands.upsertListing(
      { title, url, price, currency, priceEur, scrapedAt },
      commandKey(args.idempotencyKey, ctx, info),
    );
  }

  @Authorized()
  @Mutation(() => [Listing], {
    description:
      'Many listings at once (the gateway’s queue consumer sends its batches so); each is upserted as upsertListing would, and the answer is in input order.',
  })
  upsertListings(
    @Args(() => UpsertListingsArgs) args: UpsertListingsArgs,
    @Ctx() ctx: GraphqlContext,
  ): Promise<ListingDto[]> {
    const keys = args.idempotencyKeys ?? undefined;
    if (args.inputs.length > MAX_LISTINGS_PER_REQUEST) {
      throw ApiError.badUserInput(`\`inputs\` holds at most ${MAX_LISTINGS_PER_REQUEST} listings`, {
        argument: 'inputs',
      });
    }
    if (keys && keys.length !== args.inputs.length) {
      throw ApiError.badUserInput('`idempotencyKeys` must hold one key per input', {
        argument: 'idempotencyKeys',
      });
    }
    return ctx.commands.upsertListings(
      args.inputs.map(({ title, url, price, currency, priceEur, scrapedAt }) => ({
        title,
        url,
        price,
        currency,
        priceEur,
        scrapedAt,
      })),
      keys?.map((key) => clientKey(key, 'idempotencyKeys')),
    );
  }

  @Authorized()
  @Mutation(() => StoredFile, {
    description: 'Multipart request; send the header `apollo-require-preflight: true`.',
  })
  async uploadFile(
    @Arg('file', () => UploadScalar) file: Promise<FileUpload>,
    @Ctx() ctx: GraphqlContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<StoredFileDto> {
    const upload = await file;
    const bytes = await readUpload(upload, ctx.maxUploadBytes);
    return ctx.commands.uploadFile({ name: upload.filename, bytes }, commandKey(undefined, ctx, info));
  }

  @Authorized()
  // The gateway answers it itself: only once the new leader's announcement has reached it.
  @ProcessLocal()
  @Mutation(() => LeaderChange, {
    description:
      'Hand leadership to a named follower, or one the leader picks. Answers once the new leader holds the write fence (on the gateway: and has announced itself); TRANSFER_TIMEOUT when no new leader appears in time.',
  })
  transferLeadership(
    @Args(() => TransferLeadershipArgs) args: TransferLeadershipArgs,
    @Ctx() ctx: GraphqlContext,
  ): Promise<LeaderChangeDto> {
    const to = optionalText(args.to, 'to');
    return ctx.leadership.transferLeadership(to);
  }
}

/** Reads the whole file; busboy truncates at the limit and marks the stream, which we turn into 413. */
async function readUpload(upload: FileUpload, limit: number): Promise<Buffer> {
  let stream: ReturnType<FileUpload['createReadStream']>;
  try {
    stream = upload.createReadStream();
  } catch (error) {
    throw uploadError(error, limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      chunks.push(chunk);
    }
  } catch (error) {
    throw uploadError(error, limit);
  }
  if ((stream as { truncated?: boolean }).truncated || size > limit) throw ApiError.payloadTooLarge(limit);
  return Buffer.concat(chunks, size);
}

/**
 * graphql-upload-minimal reports problems as errors with an HTTP `status`; busboy's parse errors
 * ("Unexpected end of form") have none. Either way the request's body is at fault, not the server.
 */
function uploadError(error: unknown, limit: number): Error {
  const status = (error as { status?: unknown }).status;
  if (status === 413) return ApiError.payloadTooLarge(limit);
  const message = error instanceof Error ? error.message : String(error);
  return ApiError.badUserInput(`the upload failed: ${message}`);
}

type SubscribeData<A = Record<string, unknown>> = SubscribeResolverData<unknown, A, GraphqlContext>;

@Resolver()
export class SubscriptionResolver {
  @Subscription(() => LeaderChange, {
    subscribe: ({ context }: SubscribeData) => context.feeds.leaderChanged(),
  })
  leaderChanged(@Root() change: LeaderChangeDto): LeaderChangeDto {
    return change;
  }

  @Subscription(() => ClusterEvent, {
    description: 'Every node’s election transitions.',
    subscribe: ({ args, context }: SubscribeData<{ since?: Date | null }>) =>
      context.feeds.clusterEvents(args.since ? { since: args.since } : {}),
  })
  clusterEvents(
    @Args(() => ClusterEventsSubscriptionArgs) _args: ClusterEventsSubscriptionArgs,
    @Root() event: ClusterEventDto,
  ): ClusterEventDto {
    return event;
  }

  @Subscription(() => Event, {
    description: 'Domain events in position order, from now on (or after `afterPosition`).',
    // Raw GraphQL args here: type-graphql does not convert them for `subscribe`.
    subscribe: ({
      args,
      context,
    }: SubscribeData<{ stream?: string | null; afterPosition?: number | null }>) => {
      const stream = optionalText(args.stream, 'stream');
      const afterPosition = optionalNonNegative(args.afterPosition, 'afterPosition');
      return context.feeds.events({
        ...(stream !== undefined ? { stream } : {}),
        ...(afterPosition !== undefined ? { afterPosition } : {}),
      });
    },
  })
  events(
    @Args(() => EventsSubscriptionArgs) _args: EventsSubscriptionArgs,
    @Root() event: EventDto,
  ): EventDto {
    return event;
  }
}

export const resolvers = [QueryResolver, MutationResolver, SubscriptionResolver] as const;
