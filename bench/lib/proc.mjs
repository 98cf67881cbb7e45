// CPU and memory accounting from /proc, for the benchmarks that say where a
// process's time goes (per process, per thread, and machine-wide).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of one /proc stat line, in seconds, and the thread name. */
export function parseStat(text) {
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  // fields after ")": state is f[0], utime is field 14 of the line = f[11].
  return { comm, cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK };
}

/** CPU seconds a process has used, all threads; NaN once it is gone. */
export function processCpu(pid) {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpu;
  } catch {
    return NaN;
  }
}

/** CPU seconds per thread of a process: Map tid -> {comm, cpu, main}. */
export function threadCpu(pid) {
  const out = new Map();
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      out.set(tid, { ...parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')), main: String(pid) === tid });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * The largest value `read()` gives, sampled every `ms` until the returned
 * function is called, which returns it (e.g. a peak of RssAnon, for which
 * the kernel keeps no high-water mark).
 */
export function sampleMax(read, ms = 100) {
  let max = read();
  const timer = setInterval(() => {
    const v = read();
    if (v > max || Number.isNaN(max)) max = v;
  }, ms);
  return () => {
    clearInterval(timer);
    return max;
  };
}

/** A size field of /proc/<pid>/status (VmHWM, VmRSS, …) in bytes; NaN once the process is gone. */
export function statusBytes(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

export const MAIN_THREAD = 'main JS thread';

/** CPU seconds per thread name between two threadCpu() readings, largest first. */
export function threadDelta(before, after) {
  const groups = new Map();
  for (const [tid, a] of after) {
    const d = a.cpu - (before.get(tid)?.cpu ?? 0);
    if (d <= 0) continue;
    const name = a.main ? MAIN_THREAD : a.comm;
    groups.set(name, (groups.get(name) ?? 0) + d);
  }
  return [...groups].sort((x, y) => y[1] - x[1]);
}

/** Machine-wide busy CPU seconds (user, nice, system, irq, softirq, steal), from /proc/stat. */
export function machineBusy() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / CLK_TCK;
}

/**
 * Starts counting the CPU time of process `pid` (in all, and by thread
 * name), of this process, and of the whole machine. The function it returns
 * reads what each used since, in CPU seconds, and the wall seconds between:
 * { seconds, cpu, threads, selfCpu, machineCpu }.
 */
export function cpuMeter(pid) {
  const threads0 = threadCpu(pid);
  const cpu0 = processCpu(pid);
  const self0 = process.cpuUsage();
  const busy0 = machineBusy();
  const t0 = performance.now();
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const busy = machineBusy();
    const self = process.cpuUsage(self0);
    const cpu = processCpu(pid) - cpu0;
    return { seconds, cpu, threads: threadDelta(threads0, threadCpu(pid)), selfCpu: (self.user + self.system) / 1e6, machineCpu: busy - busy0 };
  };
}
