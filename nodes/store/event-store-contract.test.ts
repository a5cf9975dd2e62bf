/**
 * The EventStore contract against both implementations: the in-memory store the command tests
 * use, and the PostgreSQL store (a real embedded PostgreSQL, a fresh database per test).
 */
import { migratedDatabases } from '../../test-support/migrated-databases.js';
import { EventStore as PostgresEventStore } from './event-store.js';
import { eventStoreContract } from './event-store-contract.js';
import { InMemoryEventStore } from './in-memory-event-store.js';

eventStoreContract('in memory', async () => {
  const store = new InMemoryEventStore();
  return { store, claim: async (fence) => store.claimFence(fence) };
});

const database = migratedDatabases();
eventStoreContract('PostgreSQL', async () => {
  const store = new PostgresEventStore(await database());
  return {
    store,
    claim: async (fence) => {
      await store.fence.claim(fence, `http://${fence.nodeId}`);
    },
  };
});
