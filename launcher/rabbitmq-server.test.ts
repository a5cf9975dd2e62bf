import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import amqp from 'amqplib';
import { startTestRabbitmq, type TestRabbitmq } from '../test-support/rabbitmq.js';
import { descendantProcesses, isRunning } from './child-process.js';

// The broker's beam (and its helpers) and its epmd are all started below this test process.
const ourServerProcesses = () =>
  descendantProcesses(process.pid).filter(({ name }) => /beam|epmd|erl_child_setup/.test(name));

let rabbitmq: TestRabbitmq;
before(async () => {
  rabbitmq = await startTestRabbitmq();
});
after(async () => {
  await rabbitmq?.stop();
});

test('a durable queue and a persistent message survive a restart on the same data', async () => {
  const queue = 'restart-survivor';
  const body = Buffer.from(JSON.stringify({ hello: 'world', at: Date.now() }));
  const publisher = await amqp.connect(rabbitmq.url);
  const channel = await publisher.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  channel.sendToQueue(queue, body, { persistent: true });
  await channel.waitForConfirms();
  await publisher.close();

  await rabbitmq.restart();

  const consumer = await amqp.connect(rabbitmq.url);
  const readBack = await consumer.createChannel();
  const message = await readBack.get(queue, { noAck: true });
  await consumer.close();
  assert.ok(message, 'the message is still in the queue');
  assert.deepEqual(message.content, body);
  assert.equal(message.properties.deliveryMode, 2);
});

test('stop leaves no beam or epmd process behind', async () => {
  const running = ourServerProcesses();
  assert.ok(
    running.some(({ name }) => name.startsWith('beam')),
    'a broker runs before stop',
  );
  assert.ok(
    running.some(({ name }) => name === 'epmd'),
    'its epmd runs before stop',
  );
  await rabbitmq.stop();
  assert.deepEqual(ourServerProcesses(), []);
  assert.deepEqual(
    running.filter(({ pid }) => isRunning(pid)),
    [],
  );
});
