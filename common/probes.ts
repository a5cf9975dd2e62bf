/**
 * The probes that an orchestrator (Kubernetes, compose) asks every node and gateway, beside the
 * richer `/healthz`: `/livez` says the process answers (failing it gets the process restarted),
 * `/readyz` says it can serve — it knows a leader and its database answers (failing it only takes
 * the process out of rotation). Both serve JSON; `/readyz` names what is missing.
 */
export const LIVEZ_PATH = '/livez';
export const READYZ_PATH = '/readyz';

export interface Readiness {
  /** 200 when ready, 503 when not. */
  readonly ready: boolean;
  /** What is missing, one line each; empty when ready. */
  readonly missing: readonly string[];
  readonly leader: string | null;
}

/** Ready when nothing is missing. */
export function readiness(leader: string | null, missing: ReadonlyArray<string | false>): Readiness {
  const reasons = missing.filter((m): m is string => m !== false);
  return { ready: reasons.length === 0, missing: reasons, leader };
}
