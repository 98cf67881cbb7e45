// A real browser for the web app's tests: Debian's Chromium driven by
// playwright-core (.ci/run installs the chromium-headless-shell package).
// Each test file gets one browser; each test its own context (own
// sessionStorage).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from '../helpers/server.js';

// The headless shell is the same Blink without the browser's UI: a test
// file's browser cost ~12 CPU-s with it against ~35 with the full Chromium
// (whose new headless mode starts the whole browser), on a 2-CPU machine
// where e2e files share the CPUs with the others. The full one still works.
const SHELL = '/usr/bin/chromium-headless-shell';
export const CHROMIUM = process.env.SLUICE_CHROMIUM ?? (existsSync(SHELL) ? SHELL : '/usr/bin/chromium');

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the browser tests need Chromium at ${SHELL} or ${CHROMIUM}: apt-get install chromium-headless-shell (as .ci/run does), or set SLUICE_CHROMIUM`);
  }
  // Under `faketime` (the date check) the browser keeps the moved clock,
  // without scripts/vitest.mjs's shim for the engine's waits (and with its
  // monotonic clock moved too: Chromium with a wall clock 40 days from its
  // monotonic one ran a 100 ms page timer in ~30 s).
  const env = { ...process.env };
  delete env.FAKETIME_DONT_FAKE_MONOTONIC;
  if (env.LD_PRELOAD) env.LD_PRELOAD = env.LD_PRELOAD.split(':').filter((p) => !p.includes('faketime-condwait')).join(':');
  return chromium.launch({
    executablePath: CHROMIUM,
    env,
    headless: true,
    // Root in CI containers: Chromium's sandbox needs user namespaces.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

export interface OpenPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Script errors and console errors (CSP violations among them) seen so far; failed HTTP statuses the page expects are not problems. */
  readonly problems: string[];
}

export async function openPage(browser: Browser, url: string, viewport = { width: 1280, height: 800 }, colorScheme: 'light' | 'dark' = 'light'): Promise<OpenPage> {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(url);
  return { context, page, problems };
}

/** A text a chart drew on its canvas: where, how wide, and how it was aligned. */
export interface DrawnText {
  text: string;
  x: number;
  y: number;
  width: number;
  align: string;
  canvasWidth: number;
}

/**
 * Records the text drawn on canvases (uPlot's axis labels are only pixels):
 * each full clear of a canvas starts its record over, and canvases no longer
 * in the page are left out, so what `drawnText` returns is what is on
 * screen. Takes effect from the next load of the page.
 */
export async function recordCanvasText(context: BrowserContext): Promise<void> {
  await context.addInitScript(`{
    const drawn = new Map();
    window.__drawnText = () => [...drawn].filter(([canvas]) => canvas.isConnected).flatMap(([, list]) => list);
    const P = CanvasRenderingContext2D.prototype;
    const clear = P.clearRect;
    P.clearRect = function (x, y, w, h) {
      if (x === 0 && y === 0 && w >= this.canvas.width && h >= this.canvas.height) drawn.set(this.canvas, []);
      return clear.call(this, x, y, w, h);
    };
    const fill = P.fillText;
    P.fillText = function (text, x, y, ...rest) {
      const list = drawn.get(this.canvas) ?? [];
      drawn.set(this.canvas, list);
      list.push({ text: String(text), x, y, width: this.measureText(String(text)).width, align: this.textAlign, canvasWidth: this.canvas.width });
      return fill.call(this, text, x, y, ...rest);
    };
  }`);
}

export async function drawnText(page: Page): Promise<DrawnText[]> {
  return (await page.evaluate('window.__drawnText()')) as DrawnText[];
}

/**
 * The problems of a chart's time-axis labels (centred text): any that sticks
 * out of the canvas, and any two on a line closer than `gap` pixels.
 */
export function timeLabelProblems(drawn: readonly DrawnText[], gap = 8): string[] {
  const problems: string[] = [];
  const lines = new Map<number, DrawnText[]>();
  for (const d of drawn.filter((t) => t.align === 'center')) lines.set(d.y, [...(lines.get(d.y) ?? []), d]);
  for (const line of lines.values()) {
    const sorted = [...line].sort((a, b) => a.x - b.x);
    sorted.forEach((d, i) => {
      if (d.x - d.width / 2 < 0 || d.x + d.width / 2 > d.canvasWidth) problems.push(`"${d.text}" is cut off`);
      const next = sorted[i + 1];
      if (next && next.x - next.width / 2 - (d.x + d.width / 2) < gap) problems.push(`"${d.text}" and "${next.text}" are closer than ${gap} px`);
    });
  }
  return problems;
}

/** Signs in through the form, as a person would. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/**
 * Screenshots go to test-results/screenshots (not committed); with
 * SLUICE_UPDATE_SCREENSHOTS=1 to docs/screenshots, which the README links.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.SLUICE_UPDATE_SCREENSHOTS ? join(ROOT, 'docs/screenshots') : join(ROOT, 'test-results/screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}
