/**
 * A real RabbitMQ for tests (launcher/rabbitmq-server.ts): one broker per test file on free ports in a
 * temporary directory, which stop() removes. restart() keeps ports and data, as a broker that went
 * away and came back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { type RunningRabbitmq, startRabbitmq } from '../launcher/rabbitmq-server.js';
import { freePort } from './postgres.js';

export interface TestRabbitmq {
  readonly url: string;
  readonly port: number;
  /** The ports of its Erlang distribution and its own epmd. */
  readonly distPort: number;
  readonly epmdPort: number;
  /** Stop the broker and start it again on the same ports and data. */
  restart(): Promise<void>;
  /** Stop the broker and remove its data. */
  stop(): Promise<void>;
}

/** The next `count` messages on `queue`, as a consumer gets them (each acked), on a channel of its own. */
export async function receiveMessages(
  connection: ChannelModel,
  queue: string,
  count: number,
): Promise<ConsumeMessage[]> {
  const channel = await connection.createChannel();
  const received: ConsumeMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    channel
      .consume(queue, (message) => {
        if (!message) return;
        channel.ack(message);
        received.push(message);
        if (received.length === count) resolve();
      })
      .catch(reject);
  });
  await channel.close();
  return received;
}

export async function startTestRabbitmq(): Promise<TestRabbitmq> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ensemble-rabbitmq-'));
  const ports = { port: await freePort(), distPort: await freePort(), epmdPort: await freePort() };
  const start = () => startRabbitmq({ dataDir, ...ports });
  let running: RunningRabbitmq | undefined;
  try {
    running = await start();
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: running.url,
    ...ports,
    async restart() {
      await running?.stop();
      running = undefined;
      running = await start();
    },
    async stop() {
      await running?.stop();
      running = undefined;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
