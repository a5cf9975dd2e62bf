/**
 * How long a stopping leader waits for its leadership transfer (the writes it took committed, a
 * new leader elected and holding the fence) before it stops anyway: three maximum election
 * timeouts (900 ms by default), at most MAX_SHUTDOWN_TRANSFER_MS, well inside the shutdown's 5 s
 * deadline. The election itself gives a transfer up after one election timeout. Orchestrators'
 * grace periods are checked against the maximum (deploy/kubernetes.test.ts).
 */
export const MAX_SHUTDOWN_TRANSFER_MS = 4_000;

export function shutdownTransferMs(maxElectionTimeoutMs: number): number {
  return Math.min(3 * maxElectionTimeoutMs, MAX_SHUTDOWN_TRANSFER_MS);
}

/**
 * How long a leader that has handed over stays up before it closes its connections: one maximum
 * election timeout (300 ms by default), at most MAX_HANDOVER_LINGER_MS. Its successor's first
 * writes then run without this node's teardown beside them (closing its pools, servers and
 * subscriptions, and the gateway's reaction to each, took CPU those writes waited for on a shared
 * host: `npm run bench:transfer`, README), and a gateway not yet told of the successor gets
 * NOT_LEADER naming it rather than a refused connection. The node answers /readyz 503 meanwhile.
 * With the transfer's own limit this stays within the stop deadline.
 */
export const MAX_HANDOVER_LINGER_MS = 500;

export function handOverLingerMs(maxElectionTimeoutMs: number): number {
  return Math.min(maxElectionTimeoutMs, MAX_HANDOVER_LINGER_MS);
}
