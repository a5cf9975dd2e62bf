/**
 * CPU time of processes, from /proc (Linux): what a benchmark's processes spent per request, a
 * figure that stays put when other load on the machine makes requests per second wander.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime + stime of one process in milliseconds (0 once it is gone). */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/**
 * A process's time on a CPU and its time runnable but waiting for one (the run queue), in ms,
 * from /proc/<pid>/schedstat (nanoseconds, unlike stat's 10 ms ticks); zeros once it is gone.
 */
export function schedMs(pid: number): { run: number; wait: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { run: (run ?? 0) / 1e6, wait: (wait ?? 0) / 1e6 };
  } catch {
    return { run: 0, wait: 0 };
  }
}

/** The PostgreSQL server listening on `port` and its children (backends, walwriter, …). */
export function postgresPids(port: number): number[] {
  const stats: Array<{ pid: number; ppid: number }> = [];
  let postmaster: number | undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const ppid = Number(stat.split(') ')[1]?.split(' ')[1]);
      stats.push({ pid: Number(entry), ppid });
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const p = argv.indexOf('-p');
      if (p >= 0 && argv[p + 1] === String(port)) postmaster = Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  if (postmaster === undefined) return [];
  return [postmaster, ...stats.filter((s) => s.ppid === postmaster).map((s) => s.pid)];
}
