/**
 * One of ensemble's services run as a child process (the gateway, the mailer, the demo shop…),
 * for `npm start` and for tests: its JSON log lines are parsed and can be awaited, its stdin is a
 * pipe so it exits when its launcher does (ENSEMBLE_EXIT_WITH_PARENT), and it can be killed
 * and started again with the same environment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { LogWaiters, type WaitOptions } from './log-waiters.js';

export interface ServiceRecord {
  readonly service: string;
  readonly msg: string;
  readonly level: number;
  readonly [field: string]: unknown;
}

export interface ServiceProcessOptions {
  readonly name: string;
  /** The compiled script to run with this Node. */
  readonly script: string;
  readonly args?: readonly string[];
  readonly env: Record<string, string>;
  readonly onRecord?: (record: ServiceRecord) => void;
  /** Lines that are not JSON (a crash trace, a config error). */
  readonly onText?: (line: string, stream: 'stdout' | 'stderr') => void;
  readonly onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export class ServiceProcess {
  private child: ChildProcess | null = null;
  private readonly waiters = new LogWaiters<ServiceRecord>();

  constructor(private readonly options: ServiceProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  isRunning(): boolean {
    return this.child !== null;
  }

  start(): void {
    if (this.child) throw new Error(`${this.options.name} is already running`);
    const child = spawn(process.execPath, [this.options.script, ...(this.options.args ?? [])], {
      env: { ...process.env, ...this.options.env, ENSEMBLE_EXIT_WITH_PARENT: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) =>
      this.line(l, 'stdout'),
    );
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) =>
      this.line(l, 'stderr'),
    );
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      this.options.onExit?.(code, signal);
    });
  }

  /** Send a signal (SIGTERM by default) and wait until the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  /** Resolves with the first log record (from now on, or with `past` also before) that matches. */
  waitFor(
    predicate: (r: ServiceRecord) => boolean,
    timeoutMs = 10_000,
    what = 'a log record',
    options: WaitOptions = {},
  ): Promise<ServiceRecord> {
    return this.waiters.waitFor(predicate, timeoutMs, `${this.options.name}: ${what}`, options);
  }

  private line(line: string, stream: 'stdout' | 'stderr'): void {
    let record: ServiceRecord | null = null;
    if (line.startsWith('{')) {
      try {
        record = JSON.parse(line) as ServiceRecord;
      } catch {
        record = null;
      }
    }
    if (!record) {
      this.options.onText?.(line, stream);
      return;
    }
    this.options.onRecord?.(record);
    this.waiters.offer(record);
  }
}
