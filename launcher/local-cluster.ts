/**
 * Runs N node processes on loopback and follows their JSON logs. Used by `npm start` (until the
 * full local stack exists), by the process tests and by the election benchmark, so that all
 * three drive exactly the same real processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HEALTHZ_PATH, type NodeHealth, parseNodeHealth } from '../common/node-health.js';
import { LogWaiters, type WaitOptions } from './log-waiters.js';

export interface LogRecord {
  readonly node: string;
  readonly msg: string;
  readonly level: number;
  readonly [field: string]: unknown;
}

export interface LocalClusterOptions {
  readonly size: number;
  readonly secret: string;
  readonly dataRoot: string;
  readonly databaseUrl: string;
  /** A node's own database URL (default databaseUrl), e.g. through a proxy a test can cut. */
  readonly databaseUrlOf?: (id: string) => string;
  readonly apiToken: string;
  readonly gatewayUrl?: string;
  readonly host?: string;
  /** Each node's own address (default: `host` for all), e.g. in its own network namespace. */
  readonly hostOf?: (id: string) => string;
  /**
   * The host each node is known by in PEERS (default: its `hostOf`), e.g. a name that every
   * node's resolver maps to its current address, as a headless Service's DNS does.
   */
  readonly peerHostOf?: (id: string) => string;
  /** The command that runs a node's process, before Node itself (e.g. `ip netns exec ns1`). */
  readonly launcherOf?: (id: string) => readonly string[];
  readonly basePort?: number;
  readonly baseUdpPort?: number;
  readonly electionTimeoutMs?: string;
  readonly heartbeatIntervalMs?: number;
  readonly logLevel?: string;
  /** More environment for every node (e.g. OTEL_EXPORTER_OTLP_ENDPOINT). */
  readonly env?: Readonly<Record<string, string>>;
  /** Every log line of every node, parsed. */
  readonly onRecord?: (record: LogRecord) => void;
  /** Lines that are not JSON (a crash trace, a config error). */
  readonly onText?: (node: string, line: string, stream: 'stdout' | 'stderr') => void;
  readonly onExit?: (node: string, code: number | null, signal: NodeJS.Signals | null) => void;
}

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'nodes', 'main.js');

export class LocalCluster {
  readonly ids: readonly string[];
  private readonly children = new Map<string, ChildProcess>();
  private readonly waiters = new LogWaiters<LogRecord>();
  /** Running nodes whose web server is up (they logged "node <id> up") since they were last started. */
  private readonly ready = new Set<string>();
  /** The leader each node last reported following ("leader is X in term T"). */
  private readonly follows = new Map<string, { leader: string | null; term: number }>();

  constructor(private readonly options: LocalClusterOptions) {
    this.ids = Array.from({ length: options.size }, (_, i) => `n${i + 1}`);
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  hostOf(id: string): string {
    return this.options.hostOf?.(id) ?? this.host;
  }

  httpPort(id: string): number {
    return (this.options.basePort ?? 4001) + this.ids.indexOf(id);
  }

  udpPort(id: string): number {
    return (this.options.baseUdpPort ?? 5001) + this.ids.indexOf(id);
  }

  url(id: string): string {
    return `http://${this.hostOf(id)}:${this.httpPort(id)}`;
  }

  env(id: string): Record<string, string> {
    return {
      NODE_ID: id,
      NODE_URL: this.url(id),
      UDP_PORT: String(this.udpPort(id)),
      PEERS: this.ids
        .map((p) => `${p}@${this.options.peerHostOf?.(p) ?? this.hostOf(p)}:${this.udpPort(p)}`)
        .join(','),
      ...(this.options.hostOf ? { BIND_HOST: this.hostOf(id) } : {}),
      CLUSTER_SECRET: this.options.secret,
      ELECTION_TIMEOUT_MS: this.options.electionTimeoutMs ?? '150-300',
      HEARTBEAT_INTERVAL_MS: String(this.options.heartbeatIntervalMs ?? 30),
      DATA_DIR: join(this.options.dataRoot, id),
      DATABASE_URL: this.options.databaseUrlOf?.(id) ?? this.options.databaseUrl,
      API_TOKEN: this.options.apiToken,
      ...(this.options.gatewayUrl ? { GATEWAY_URL: this.options.gatewayUrl } : {}),
      LOG_LEVEL: this.options.logLevel ?? 'info',
      ...this.options.env,
    };
  }

  isRunning(id: string): boolean {
    return this.children.has(id);
  }

  start(id: string): void {
    if (this.children.has(id)) throw new Error(`${id} is already running`);
    this.ready.delete(id);
    this.follows.delete(id);
    const [command, ...args] = [...(this.options.launcherOf?.(id) ?? []), process.execPath, MAIN];
    const child = spawn(command as string, args, {
      env: { ...process.env, ...this.env(id), ENSEMBLE_EXIT_WITH_PARENT: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.set(id, child);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) =>
      this.line(id, child, line, 'stdout'),
    );
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) =>
      this.line(id, child, line, 'stderr'),
    );
    child.on('exit', (code, signal) => {
      if (this.children.get(id) === child) {
        this.children.delete(id);
        // Else a waitForReady([id]) made before the next start would answer from this life.
        this.ready.delete(id);
      }
      this.options.onExit?.(id, code, signal);
    });
  }

  startAll(): void {
    for (const id of this.ids) this.start(id);
  }

  /**
   * Send a signal (SIGKILL by default: a crash; SIGTERM: a planned stop, where a leader hands its
   * leadership over first) and wait until the process is gone; resolves with how it ended (null
   * when it was not running).
   */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<NodeExit | null> {
    const child = this.children.get(id);
    if (!child) return null;
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill(signal);
    if (signal !== 'SIGKILL') child.kill('SIGCONT'); // a paused process handles nothing else
    const [code, by] = await exited;
    return { code, signal: by };
  }

  /** Send a signal that does not end the process (SIGSTOP, SIGCONT). */
  signal(id: string, signal: NodeJS.Signals): void {
    this.children.get(id)?.kill(signal);
  }

  /** The process id of a running node. */
  pid(id: string): number | undefined {
    return this.children.get(id)?.pid;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.kill(id, 'SIGTERM')));
  }

  /** Resolves with the first log record (from now on, or with `past` also before) that matches. */
  waitFor(
    predicate: (r: LogRecord) => boolean,
    timeoutMs = 10_000,
    what = 'a log record',
    options: WaitOptions = {},
  ): Promise<LogRecord> {
    return this.waiters.waitFor(predicate, timeoutMs, what, options);
  }

  /**
   * Resolves once every running node reports following the same leader in the same term (that
   * leader included), returning them. Under heavy load a first leader may be replaced before all
   * nodes heard of it, so this waits for agreement, not for a particular leader.
   */
  waitForAgreement(timeoutMs = 20_000): Promise<{ leader: string; term: number }> {
    const agreed = (): { leader: string; term: number } | null => {
      const running = this.ids.filter((id) => this.isRunning(id));
      const first = this.follows.get(running[0] as string);
      if (!first?.leader) return null;
      const all = running.every(
        (id) => this.follows.get(id)?.leader === first.leader && this.follows.get(id)?.term === first.term,
      );
      return all ? { leader: first.leader, term: first.term } : null;
    };
    const now = agreed();
    if (now) return Promise.resolve(now);
    return this.waitFor(() => agreed() !== null, timeoutMs, 'every running node to follow one leader').then(
      () => agreed() as { leader: string; term: number },
    );
  }

  /** Resolves once every given node (default: every running one) serves HTTP. */
  async waitForReady(
    ids: readonly string[] = this.ids.filter((id) => this.isRunning(id)),
    timeoutMs = 60_000,
  ): Promise<void> {
    await Promise.all(
      ids
        .filter((id) => !this.ready.has(id))
        .map((id) =>
          this.waitFor((r) => r.node === id && r.msg === `node ${id} up`, timeoutMs, `${id} to serve HTTP`),
        ),
    );
  }

  /** Resolves when a node becomes leader (optionally: in a term above `aboveTerm`). */
  waitForLeader(aboveTerm = 0, timeoutMs = 10_000): Promise<LogRecord> {
    return this.waitFor(
      (r) => r.to === 'leader' && typeof r.term === 'number' && r.term > aboveTerm,
      timeoutMs,
      `a leader above term ${aboveTerm}`,
    );
  }

  /** A node's /healthz, checked against the contract the gateway reads it with. */
  async healthz(id: string): Promise<NodeHealth> {
    const res = await fetch(`${this.url(id)}${HEALTHZ_PATH}`);
    if (!res.ok) throw new Error(`${id} ${HEALTHZ_PATH} answered ${res.status}`);
    const parsed = parseNodeHealth(await res.json());
    if (!parsed.ok) throw new Error(`${id}: ${parsed.problem}`);
    return parsed.health;
  }

  private line(id: string, child: ChildProcess, line: string, stream: 'stdout' | 'stderr'): void {
    let record: LogRecord | null = null;
    if (line.startsWith('{')) {
      try {
        record = { ...(JSON.parse(line) as object), node: id } as LogRecord;
      } catch {
        record = null;
      }
    }
    if (!record) {
      this.options.onText?.(id, line, stream);
      return;
    }
    // A line read after its process exited (or from a previous life) does not make the node ready.
    if (record.msg === `node ${id} up` && this.children.get(id) === child) this.ready.add(id);
    if ('leader' in record && typeof record.term === 'number' && record.to === undefined) {
      this.follows.set(id, { leader: (record.leader as string | null) ?? null, term: record.term });
    }
    this.options.onRecord?.(record);
    this.waiters.offer(record);
  }
}

export interface NodeExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}
