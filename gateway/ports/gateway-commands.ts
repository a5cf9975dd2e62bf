/**
 * The gateway's writes, for requests that do not take the proxy's fast path and for the queue
 * consumer and FTP poller: each runs on the leader through the LeaderRouter, which keys it and
 * sees it through a failover. The gateway has already checked the caller's token (the shared
 * resolvers' `@Authorized`), so it writes with its own.
 */

import { ApiError } from '../../api/errors.js';
import type {
  Commands,
  ListingDto,
  ListingInputDto,
  StoredFileDto,
  TaskDto,
  TaskInput,
  TaskPatch,
} from '../../api/ports.js';
import { IDEMPOTENCY_KEY_HEADER, PREFLIGHTED } from '../../common/http-headers.js';
import type { UploadFileMutation } from '../../schema/generated/graphql.js';
import { graphql } from '../../schema/generated/index.js';
import type { LeaderRouter } from '../routing/leader-router.js';
import { asApiError, dataOf, type Revived, runRemote } from './remote-graphql.js';

export class GatewayCommands implements Commands {
  constructor(
    private readonly leader: LeaderRouter,
    private readonly apiToken: string,
  ) {}

  /** With a key, the node keys the write with it; without, the router makes one per write. */
  private headers(key?: string): Record<string, string> {
    return {
      authorization: `Bearer ${this.apiToken}`,
      ...(key ? { [IDEMPOTENCY_KEY_HEADER]: key } : {}),
    };
  }

  async createTask(input: TaskInput, idempotencyKey?: string): Promise<TaskDto> {
    const data = await runRemote(this.leader, {
      query: graphql(
        `mutation CreateTask($input: CreateTaskInput!, $key: String) { createTask(input: $input, idempotencyKey: $key) { ...TaskFields } }`,
      ),
      variables: { input, key: idempotencyKey ?? null },
      headers: this.headers(),
    });
    return data.createTask;
  }

  async updateTask(id: string, patch: TaskPatch, expectedVersion?: number, key?: string): Promise<TaskDto> {
    const data = await runRemote(this.leader, {
      query: graphql(
        `mutation UpdateTask($id: ID!, $input: UpdateTaskInput!, $v: Int) { updateTask(id: $id, input: $input, expectedVersion: $v) { ...TaskFields } }`,
      ),
      variables: { id, input: patch, v: expectedVersion ?? null },
      headers: this.headers(key),
    });
    return data.updateTask;
  }

  async deleteTask(id: string, expectedVersion?: number, key?: string): Promise<boolean> {
    const data = await runRemote(this.leader, {
      query: graphql(`mutation DeleteTask($id: ID!, $v: Int) { deleteTask(id: $id, expectedVersion: $v) }`),
      variables: { id, v: expectedVersion ?? null },
      headers: this.headers(key),
    });
    return data.deleteTask;
  }

  async upsertListing(input: ListingInputDto, idempotencyKey?: string): Promise<ListingDto> {
    const data = await runRemote(this.leader, {
      query: graphql(
        `mutation UpsertListing($input: ListingInput!, $key: String) { upsertListing(input: $input, idempotencyKey: $key) { ...ListingFields } }`,
      ),
      variables: {
        input: { ...input, scrapedAt: input.scrapedAt.toISOString() },
        key: idempotencyKey ?? null,
      },
      headers: this.headers(),
    });
    return data.upsertListing;
  }

  /** Many listings in one request (the queue consumer's batches), each keyed. */
  async upsertListings(
    inputs: readonly ListingInputDto[],
    idempotencyKeys?: readonly (string | undefined)[],
  ): Promise<ListingDto[]> {
    if (idempotencyKeys?.some((k) => k === undefined)) {
      throw ApiError.badUserInput('`idempotencyKeys` must hold a key for every input, or be left out');
    }
    const data = await runRemote(this.leader, {
      query: graphql(
        `mutation UpsertListings($inputs: [ListingInput!]!, $keys: [String!]) { upsertListings(inputs: $inputs, idempotencyKeys: $keys) { ...ListingFields } }`,
      ),
      variables: {
        inputs: inputs.map((i) => ({ ...i, scrapedAt: i.scrapedAt.toISOString() })),
        keys: idempotencyKeys ? (idempotencyKeys as string[]) : null,
      },
      headers: this.headers(),
    });
    return data.upsertListings;
  }

  /**
   * The queue consumer's batches: stored, or an error. The answer's listings are not needed, so
   * only their ids are asked for (the leader then serializes, and this parses, next to nothing).
   */
  async storeListings(inputs: readonly ListingInputDto[], idempotencyKeys: readonly string[]): Promise<void> {
    await runRemote(this.leader, {
      query: graphql(
        `mutation StoreListings($inputs: [ListingInput!]!, $keys: [String!]) { upsertListings(inputs: $inputs, idempotencyKeys: $keys) { id } }`,
      ),
      variables: {
        inputs: inputs.map((i) => ({ ...i, scrapedAt: i.scrapedAt.toISOString() })),
        keys: [...idempotencyKeys],
      },
      headers: this.headers(),
    });
  }

  /** Re-sent as a GraphQL multipart request (the spec's `operations`, `map`, then the file). */
  async uploadFile(file: { name: string; bytes: Buffer }, idempotencyKey?: string): Promise<StoredFileDto> {
    const { body, contentType } = multipartUpload(
      String(
        graphql(`mutation UploadFile($file: Upload!) { uploadFile(file: $file) { ...StoredFileFields } }`),
      ),
      file,
    );
    try {
      const res = await this.leader.send(body, {
        ...this.headers(idempotencyKey),
        'content-type': contentType,
        ...PREFLIGHTED,
      });
      return dataOf<Revived<UploadFileMutation>>(res).uploadFile;
    } catch (error) {
      throw asApiError(error);
    }
  }
}

/** A graphql-multipart-request-spec body with one file bound to `variables.file`. */
export function multipartUpload(
  query: string,
  file: { name: string; bytes: Buffer; type?: string },
): { body: Buffer; contentType: string } {
  const boundary = `ensemble-${crypto.randomUUID()}`;
  const part = (headers: string, content: Buffer | string) =>
    Buffer.concat([
      Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`),
      Buffer.from(content),
      Buffer.from('\r\n'),
    ]);
  const safeName = file.name.replace(/["\r\n\\]/g, '_');
  const body = Buffer.concat([
    part(
      'Content-Disposition: form-data; name="operations"',
      JSON.stringify({ query, variables: { file: null } }),
    ),
    part('Content-Disposition: form-data; name="map"', JSON.stringify({ 0: ['variables.file'] })),
    part(
      `Content-Disposition: form-data; name="0"; filename="${safeName}"\r\nContent-Type: ${file.type ?? 'application/json'}`,
      file.bytes,
    ),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
