// bench/web: the live tail page in headless Chromium while 2,000 events/s
// go into `serve` (100-event requests every 50 ms). Measured in the page:
// long tasks and frames over 50 ms, the delay from a socket message's
// arrival to each event's row appearing in the DOM (and how many events
// never got a row because newer ones pushed them out of view within one
// frame), the JS heap after a forced GC at 10 s and at the end, the DOM
// size, main-thread busy time; and the built app's initial load (gzip).
// Baseline in the same run: a plain page on the same server that opens the
// same socket and only parses its messages.
//
//   npm run build && node bench/web.mjs
//   BENCH_SECONDS=10 BENCH_WRITE=0 node bench/web.mjs
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { ROOT, flag, ingestNdjson, intro, machine, machineBusy, option, parseStat, percentile, stamp, startServe, stopServe, table, writeSection } from './lib.mjs';

const SECONDS = option('SECONDS', 30);
const BASELINE_SECONDS = option('BASELINE_SECONDS', 10);
const WRITE = flag('WRITE', true);
const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'bench-web-token-1234567';
const RATE = 2000;
const EVERY_MS = 50;
const PER_REQUEST = (RATE * EVERY_MS) / 1000;
/** Long tasks in the first seconds (page load, first backfill) are not steady state. */
const WARMUP_S = 5;
const HEAP_AT_S = 10;

const epoch = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const mib = (b) => (b / 2 ** 20).toFixed(1);
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

// Installed before any page script. Timestamps every event of every socket
// message on arrival (this listener is added in the constructor, so it runs
// before the page's own onmessage), sees rows with data-id enter the DOM,
// and records long tasks and gaps between animation frames. Node drains the
// samples every second, so the instrumentation's memory stays flat.
const INSTRUMENT = `(() => {
  const arrived = new Map();
  const S = { toSocket: [], toSeen: [], endToEnd: [], longtasks: [], gaps: [], events: 0, noRow: 0, frames: 0 };
  // Events sent before the measured load (an earlier phase's, a backfill) are not counted.
  window.__benchFrom = Infinity;
  const seen = (id, t) => {
    const a = arrived.get(id);
    if (a === undefined) return;
    arrived.delete(id);
    S.toSeen.push(t - a[0]);
    S.endToEnd.push(performance.timeOrigin + t - a[1]);
  };
  window.__benchSeen = seen;
  const Native = WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (m) => {
        const t = performance.now();
        let msg;
        try { msg = JSON.parse(m.data); } catch { return; }
        if (msg.type !== 'events') return;
        const wall = performance.timeOrigin + t;
        for (const e of msg.events) {
          const sent = Number(e.attributes && e.attributes.sent);
          if (!(sent >= window.__benchFrom)) continue;
          S.events++;
          S.toSocket.push(wall - sent);
          arrived.set(e.id, [t, sent]);
        }
      });
    }
  };
  new MutationObserver((records) => {
    const t = performance.now();
    for (const r of records) for (const n of r.addedNodes) if (n.nodeType === 1 && n.hasAttribute('data-id')) seen(n.getAttribute('data-id'), t);
  }).observe(document, { childList: true, subtree: true });
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) S.longtasks.push([e.startTime, e.duration]); }).observe({ type: 'longtask' });
  } catch {}
  let last = 0;
  const frame = (t) => { S.frames++; if (last && t - last > 50) S.gaps.push([last, t - last]); last = t; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  window.__benchTake = () => {
    const cutoff = performance.now() - 2000;
    for (const [id, a] of arrived) if (a[0] < cutoff) { arrived.delete(id); S.noRow++; }
    const out = { ...S, now: performance.now(), rows: document.querySelectorAll('[data-id]').length, elements: document.getElementsByTagName('*').length };
    S.toSocket = []; S.toSeen = []; S.endToEnd = []; S.longtasks = []; S.gaps = []; S.events = 0; S.noRow = 0; S.frames = 0;
    return out;
  };
})();`;

// The baseline page's whole program: the same socket, messages parsed, nothing drawn.
const BASELINE_CLIENT = `new Promise((resolve) => {
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/api/v1/tail');
  ws.onopen = () => {
    ws.send(JSON.stringify({ type: 'auth', token: ${JSON.stringify(TOKEN)} }));
    ws.send(JSON.stringify({ type: 'subscribe', q: '', since: '15m', limit: 500 }));
    resolve(true);
  };
  ws.onmessage = (m) => {
    const t = performance.now();
    const msg = JSON.parse(m.data);
    if (msg.type === 'events') for (const e of msg.events) window.__benchSeen(e.id, t);
  };
})`;

const post = (url, body) => ingestNdjson(agent, url, TOKEN, body);

const LEVELS = ['info', 'info', 'info', 'debug', 'warn', 'info', 'error', 'info'];
const PATHS = ['/api/orders', '/api/users/me', '/healthz', '/api/search?q=shoes', '/api/cart'];
let seq = 0;
function batch() {
  const sent = epoch();
  let body = '';
  for (let i = 0; i < PER_REQUEST; i++) {
    const n = seq++;
    body += JSON.stringify({ level: LEVELS[n % LEVELS.length], service: `svc-${n % 5}`, host: `web-${n % 3}`, msg: `GET ${PATHS[n % PATHS.length]} ${n % 13 === 0 ? 500 : 200} in ${n % 97} ms request ${n}`, sent }) + '\n';
  }
  return body;
}

/** Ingests at RATE for `seconds`, calling `each(secondIndex)` once a second. */
async function load(url, seconds, each) {
  const inflight = new Set();
  let failed = 0;
  const t0 = epoch();
  let tick = 1;
  // The per-second work runs beside the load, one at a time, so a slow
  // sample (a forced GC) does not hold back the requests.
  let sampling = Promise.resolve();
  for (let next = t0; next < t0 + seconds * 1000; next += EVERY_MS) {
    const wait = next - epoch();
    if (wait > 0) await sleep(wait);
    const p = post(url, batch()).catch(() => failed++);
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (epoch() - t0 >= tick * 1000) {
      const s = tick++;
      sampling = sampling.then(() => each(s));
    }
  }
  await Promise.all(inflight);
  await sampling;
  return failed;
}

/** CPU seconds of these processes and all their descendants (Chromium's renderers, chdb's threads). */
function treeCpu(roots) {
  const procs = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      procs.push({ pid: Number(pid), ppid: Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]), cpu: parseStat(text).cpu });
    } catch {
      // gone meanwhile
    }
  }
  const mine = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (mine.has(p.pid) || !mine.has(p.ppid)) continue;
      mine.add(p.pid);
      grew = true;
    }
  }
  return procs.filter((p) => mine.has(p.pid)).reduce((a, p) => a + p.cpu, 0);
}

/** What one page saw during a load of `seconds`. */
async function measure(page, cdp, url, seconds, roots) {
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const heap = async () => {
    const before = await page.evaluate('performance.now()');
    await cdp.send('HeapProfiler.collectGarbage');
    const used = (await metrics()).JSHeapUsedSize;
    return { used, window: [before, (await page.evaluate('performance.now()')) + 100] };
  };
  const all = { toSocket: [], toSeen: [], endToEnd: [], longtasks: [], gaps: [], events: 0, noRow: 0, frames: 0, rows: 0, elements: 0 };
  const take = async () => {
    const s = await page.evaluate('window.__benchTake()');
    for (const k of ['toSocket', 'toSeen', 'endToEnd', 'longtasks', 'gaps']) for (const x of s[k]) all[k].push(x);
    all.events += s.events;
    all.noRow += s.noRow;
    all.frames += s.frames;
    all.rows = Math.max(all.rows, s.rows);
    all.elements = Math.max(all.elements, s.elements);
    return s.now;
  };
  await page.evaluate(`window.__benchFrom = ${epoch()}`);
  const startAt = await take();
  const m0 = await metrics();
  const w0 = epoch();
  const busy0 = machineBusy();
  const ours0 = treeCpu(roots);
  const heaps = [];
  const gcWindows = [];
  const failed = await load(url, seconds, async (s) => {
    await take();
    if (s === HEAP_AT_S || s === seconds) {
      const h = await heap();
      heaps.push([s, h.used]);
      gcWindows.push(h.window);
    }
  });
  // Cores busy with other work while this ran (machine-wide busy time minus this benchmark's processes).
  const others = Math.max(0, (machineBusy() - busy0 - (treeCpu(roots) - ours0)) / ((epoch() - w0) / 1000));
  await sleep(2500); // stragglers arrive, then unseen events count as never shown
  await take();
  const m1 = await metrics();
  const wall = (epoch() - w0) / 1000;
  if (heaps.length === 0 || heaps.at(-1)[0] !== seconds) heaps.push([seconds, (await heap()).used]);
  const loadEnd = startAt + seconds * 1000;
  const steady = ([t, d]) => t >= startAt + WARMUP_S * 1000 && t <= loadEnd && !gcWindows.some(([a, b]) => t + d >= a && t <= b);
  const steadySeconds = seconds - WARMUP_S;
  return {
    failed,
    others,
    events: all.events,
    noRow: all.noRow,
    toSocket: all.toSocket,
    toSeen: all.toSeen,
    endToEnd: all.endToEnd,
    fps: all.frames / wall,
    longSteady: all.longtasks.filter(steady).map(([t, d]) => [(t - startAt) / 1000, d]),
    gapsSteady: all.gaps.filter(steady),
    longAll: all.longtasks.filter(([t]) => t >= startAt && t <= loadEnd),
    steadySeconds,
    heaps,
    rows: all.rows,
    elements: all.elements,
    busy: (m1.TaskDuration - m0.TaskDuration) / wall,
    script: (m1.ScriptDuration - m0.ScriptDuration) / wall,
    other: (m1.TaskOtherDuration - m0.TaskOtherDuration) / wall,
    cpu: (m1.ThreadTime - m0.ThreadTime) / wall,
    layout: (m1.LayoutDuration + m1.RecalcStyleDuration - m0.LayoutDuration - m0.RecalcStyleDuration) / wall,
  };
}

/** index.html and the JS and CSS it references, gzip-compressed as served. */
function initialLoad() {
  const dir = join(ROOT, 'dist/public');
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const files = ['index.html', ...[...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1])];
  return files.map((f) => {
    const p = join(dir, f);
    const gz = existsSync(`${p}.gz`) ? readFileSync(`${p}.gz`).length : gzipSync(readFileSync(p), { level: 9 }).length;
    return { file: f, raw: readFileSync(p).length, gz };
  });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-web-'));
  const serve = await startServe(join(dir, 'data'), { SLUICE_ADMIN_TOKEN: TOKEN });
  const { url } = serve;
  // Stopped early (Ctrl-C, a timeout): take `serve` down too (Playwright closes its browser).
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => (serve.child.kill('SIGKILL'), process.exit(130)));
  const load0 = loadavg()[0];
  // `serve` and Chromium are children of this process.
  const roots = [process.pid];
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
    // Baseline: a plain page of this origin (no app), the same socket.
    const bctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await bctx.addInitScript(INSTRUMENT);
    const bpage = await bctx.newPage();
    await bpage.goto(`${url}/healthz`);
    await bpage.evaluate(BASELINE_CLIENT);
    const base = await measure(bpage, await bctx.newCDPSession(bpage), url, BASELINE_SECONDS, roots);
    await bctx.close();
    console.error(`[bench:web] baseline: ${base.events} events, socket→handler p99 ${f1(percentile(base.toSeen, 0.99))} ms, ${base.longSteady.length} long tasks`);

    // The app: signed in as a person does, the live tail with no filter.
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.addInitScript(INSTRUMENT);
    const page = await ctx.newPage();
    await page.goto(url);
    await page.getByLabel('Token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.tail-state[data-state="live"]').waitFor();
    const app = await measure(page, await ctx.newCDPSession(page), url, SECONDS, roots);
    await ctx.close();
    const load1 = loadavg()[0];

    const assets = initialLoad();
    const gzTotal = assets.reduce((a, b) => a + b.gz, 0);
    const heap10 = app.heaps.find(([s]) => s === HEAP_AT_S)?.[1] ?? NaN;
    const heapEnd = app.heaps.at(-1)[1];
    const growth = heapEnd - heap10;
    const perS = (xs, s) => (xs.length / s).toFixed(2);
    const longest = (xs) => (xs.length ? Math.max(...xs.map(([, d]) => d)) : 0);
    const appP99 = percentile(app.toSeen, 0.99);
    const sentApprox = SECONDS * RATE;

    const L = intro(
      '## Web app: the live tail page at 2,000 events/s',
      `Measured ${stamp()} UTC in headless Chromium (${(await browser.version())}) at 1280×800: ${SECONDS} s of a steady ${RATE.toLocaleString('en')} events/s (${PER_REQUEST}-event requests every ${EVERY_MS} ms) into \`serve\` on the embedded store, the live tail open with no filter; before it, ${BASELINE_SECONDS} s of the same load with the baseline page. Reproduce with:`,
      [`npm run build && BENCH_SECONDS=${SECONDS} node bench/web.mjs`],
      `**Machine:** ${machine()}; \`serve\`, Chromium and the load generator share the 2 cores, and other work ran on the machine at the same time: ${app.others.toFixed(2)} cores busy with it on average during the live tail run, ${base.others.toFixed(2)} during the baseline (machine-wide busy time in /proc/stat less this benchmark's processes; 1-minute load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end). Shared and noisy: a long task is wall time, and a renderer that waits for a core makes one.`,
      '**Baseline:** a page of the same origin that opens the same socket (auth, subscribe with no filter) and only parses each message: the cost of receiving the stream at all. Both pages carry the same instrumentation (a second `JSON.parse` of every message, a MutationObserver, a frame loop).',
    );
    const at = (xs) => (xs.length ? `: ${xs.map(([t, d]) => `${d.toFixed(0)} ms at ${t.toFixed(1)} s`).join(', ')}` : '');
    const e2e = (p) => `${f1(percentile(app.endToEnd, p))} ms vs ${f1(percentile(base.endToEnd, p))} ms = ${(percentile(app.endToEnd, p) / percentile(base.endToEnd, p)).toFixed(2)}×`;
    const busy = (r) => `${(100 * r.busy).toFixed(0)}% (script ${(100 * r.script).toFixed(0)}%, style + layout ${(100 * r.layout).toFixed(0)}%, other ${(100 * r.other).toFixed(0)}%; CPU ${(100 * r.cpu).toFixed(0)}%)`;
    L.push(
      ...table(['measure', 'live tail', 'baseline', 'target', ''], 'lrrrl', [
        [`long tasks (> 50 ms) per second, steady state (after ${WARMUP_S} s; the forced GCs excluded)`, `${perS(app.longSteady, app.steadySeconds)}${at(app.longSteady)}`, perS(base.longSteady, base.steadySeconds), '0', app.longSteady.length === 0 ? 'pass' : '**FAIL**'],
        ['frames over 50 ms per second, steady state (gaps between animation frames)', perS(app.gapsSteady, app.steadySeconds), perS(base.gapsSteady, base.steadySeconds), '', ''],
        ['long tasks in the whole run (warm-up and forced GCs included)', `${app.longAll.length} (longest ${longest(app.longAll).toFixed(0)} ms)`, base.longAll.length, '', ''],
        ['socket message → row in the DOM, p50 / p99 ms (baseline: → its handler)', `${f1(percentile(app.toSeen, 0.5))} / ${f1(appP99)}`, `${f1(percentile(base.toSeen, 0.5))} / ${f1(percentile(base.toSeen, 0.99))}`, 'p99 < 100 ms', appP99 < 100 ? 'pass' : '**FAIL**'],
        ['events that never got a row (newer ones pushed them out of view within one frame)', `${app.noRow.toLocaleString('en')} of ${app.events.toLocaleString('en')} (${((100 * app.noRow) / Math.max(1, app.events)).toFixed(0)}%)`, '', '', ''],
        ['ingest request start → socket message, p50 / p99 ms (batcher, insert, send)', `${f1(percentile(app.toSocket, 0.5))} / ${f1(percentile(app.toSocket, 0.99))}`, `${f1(percentile(base.toSocket, 0.5))} / ${f1(percentile(base.toSocket, 0.99))}`, '', ''],
        ['ingest request start → row in the DOM (the events that got one; baseline: → handler), p50 / p99 ms', `${f1(percentile(app.endToEnd, 0.5))} / ${f1(percentile(app.endToEnd, 0.99))}`, `${f1(percentile(base.endToEnd, 0.5))} / ${f1(percentile(base.endToEnd, 0.99))}`, '', ''],
        ['ratio live tail / baseline, ingest → shown', `p50 ${e2e(0.5)}; p99 ${e2e(0.99)}`, '', '', ''],
        ['animation frames per second', app.fps.toFixed(0), base.fps.toFixed(0), '', ''],
        ['events received by the page', `${app.events.toLocaleString('en')} (~${sentApprox.toLocaleString('en')} sent; ${app.failed} requests failed)`, base.events.toLocaleString('en'), '', ''],
        [`JS heap after a forced GC at ${HEAP_AT_S} s → at ${SECONDS} s`, `${mib(heap10)} → ${mib(heapEnd)} MiB (${growth >= 0 ? '+' : ''}${mib(growth)})`, `${base.heaps.map(([, h]) => mib(h)).join(' → ')} MiB`, 'stable (< 10% growth)', growth < heap10 * 0.1 ? 'pass' : '**FAIL**'],
        ['most rows with `data-id` in the DOM / most elements in the page', `${app.rows} / ${app.elements}`, `– / ${base.elements}`, 'bounded', ''],
        ['main thread: task time per second of wall time (other = paint, compositing, GC; CPU = thread time, less than task time when the thread waited for a core)', busy(app), busy(base), '', ''],
        [`initial load, gzip (${assets.map((a) => `${a.file.replace(/^assets\//, '')} ${(a.gz / 1024).toFixed(1)}`).join(' + ')} kB)`, `${(gzTotal / 1024).toFixed(1)} kB`, '', '≤ 150 kB', gzTotal <= 150 * 1024 ? 'pass' : '**FAIL**'],
      ]),
    );
    L.push('');
    L.push(`Events reach the page in bursts, one socket message per insert, and the page applies whatever arrived once per animation frame; only the rows in view (plus a few either side) exist in the DOM, so in a burst larger than the screen the older events scroll past before any frame shows them: they are in memory (the newest 20,000 are kept), and scrolling up or pausing shows them. "Socket message → row" is timed for the events that got a row, from the moment the message's first listener ran to the MutationObserver callback after the render that added the row (the paint follows in the same frame). The baseline and the live tail run one after the other, so the server's part (ingest → socket) differs between them with the machine's noise; socket → row is the page's own part.`);
    const section = L.join('\n');
    console.log(section);
    if (WRITE) writeSection('web', 'bench/web.mjs', section);
  } finally {
    await browser?.close();
    await stopServe(serve);
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
