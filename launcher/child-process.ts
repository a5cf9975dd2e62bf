/**
 * What the launchers of system servers (RabbitMQ, pure-ftpd, epmd) share: run the server as a child
 * of this process so that stopping it is waiting for its exit, keep the last lines it printed for
 * error messages, and wait for readiness by asking the server itself rather than by sleeping.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export interface ServerProcess {
  readonly child: ChildProcess;
  /** The last lines the process printed on stdout and stderr, oldest first. */
  logTail(): string;
  /** Resolves with the exit code (or signal name) once the process has exited and been reaped. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
}

const tailLines = 40;

export function startServerProcess(
  command: string,
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    onLog?: (line: string) => void;
    /** Run as this user (we must be root), e.g. PostgreSQL, which refuses to run as root. */
    user?: { uid: number; gid: number };
  },
): ServerProcess {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    uid: options.user?.uid,
    gid: options.user?.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (line: string) => {
    if (line.trim() === '') return;
    lines.push(line.trimEnd());
    if (lines.length > tailLines) lines.shift();
    options.onLog?.(line.trimEnd());
  };
  // A chunk may end mid-line (Erlang writes some errors a character at a time): keep the rest for later.
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const complete = (partial + chunk).split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) keep(line);
    });
    stream?.on('end', () => keep(partial));
  }
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    // 'error' (command not found) comes without 'close'; 'close' comes after the pipes are drained.
    child.once('error', (error) => {
      lines.push(String(error.message));
      done = true;
      resolve('spawn failed');
    });
    child.once('close', (code, signal) => {
      done = true;
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return { child, exited, logTail: () => lines.join('\n'), hasExited: () => done };
}

/**
 * Call probe until it succeeds. Fails early, with the server's last output, when the server exits,
 * and at the deadline with the last probe error as well.
 */
export async function waitUntilReady(
  server: ServerProcess,
  options: { what: string; timeoutMs: number; probe: () => Promise<void>; retryMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (server.hasExited()) {
      throw new Error(
        `${options.what} exited (${await server.exited}) before it was ready; its last output:\n${server.logTail()}`,
      );
    }
    try {
      await options.probe();
      return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(
        `${options.what} was not ready within ${options.timeoutMs} ms (last attempt: ${reason}); its last output:\n${server.logTail()}`,
      );
    }
    // Wait before the next attempt, but notice an exit at once.
    await Promise.race([delay(options.retryMs ?? 100), server.exited]);
  }
}

/** SIGTERM, and SIGKILL when the process has not exited after graceMs; resolves once it is reaped. */
export async function stopServerProcess(server: ServerProcess, graceMs = 15_000): Promise<void> {
  if (server.hasExited()) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs);
  await server.exited;
  clearTimeout(timer);
}

/** The processes below rootPid (children, their children, …), read from /proc. */
export function descendantProcesses(rootPid: number): { pid: number; name: string }[] {
  const parents = new Map<number, { ppid: number; name: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/PID/stat: "pid (name) state ppid …"; the name may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      parents.set(Number(entry), { ppid, name: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // The process exited while we were reading.
    }
  }
  const found: { pid: number; name: string }[] = [];
  const below = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, { ppid, name }] of parents) {
      if (below.has(ppid) && !below.has(pid)) {
        below.add(pid);
        found.push({ pid, name });
        grew = true;
      }
    }
  }
  return found;
}

/** Whether pid is a live process (a zombie, exited but not yet reaped, does not count). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
