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
