// Shared pieces of the browser tests: a static server over the built page, Debian's Chromium
// driven by playwright-core, and helpers that read what a canvas shows.
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DIST = process.env.DIST_DIR ?? join(ROOT, 'dist');
export const SHOTS = join(ROOT, 'tests/browser/screenshots');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.json': 'application/json',
  '.md': 'text/markdown',
  '.bin': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.png': 'image/png',
};

/**
 * Serves `DIST` on a free loopback port, under `prefix` (a site's sub-path such as
 * `/playground/`). Resolves to { url, close }.
 */
export async function serveDist({ prefix = '/' } = {}) {
  const server = createServer(async (req, res) => {
    const full = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (!full.startsWith(prefix)) {
      res.writeHead(404).end('not found');
      return;
    }
    const path = '/' + full.slice(prefix.length);
    const file = normalize(join(DIST, path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(DIST)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
      });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}${prefix}`, close: () => new Promise((ok) => server.close(ok)) };
}

/**
 * Launches headless Chromium; `webgpu` adds the flag that exposes SwiftShader's WebGPU adapter,
 * `args` any other flags.
 */
export async function launch({ webgpu = false, args: extra = [] } = {}) {
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extra,
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args,
  });
}

/**
 * Opens a page that records console errors and uncaught exceptions in `page.problems`.
 * `init` runs in the page before any of its own scripts.
 */
export async function openPage(browser, url, { scale = 1, width = 1280, height = 1400, init, bypassCSP = false, serviceWorkers = 'block' } = {}) {
  // The service worker (offline use) is tested on its own: elsewhere it would hide requests
  // from `page.route` and make one test's cache another's network.
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: scale, bypassCSP, serviceWorkers });
  const page = await context.newPage();
  // Every Content-Security-Policy violation is a problem too.
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`));
  });
  if (init) await page.addInitScript(init);
  page.problems = [];
  page.on('console', (msg) => {
    if (process.env.SHOW_CONSOLE) console.log(msg.text());
    if (msg.type() === 'error') page.problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => page.problems.push(`exception: ${err.message}`));
  await page.goto(url);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  return page;
}

/** A viewport that holds every panel of the page at once: the redraw benchmark's (issue 10). */
export const EVERY_PANEL = { width: 1440, height: 4200 };

/** Waits until the backend has started and its tensor check has finished. */
export async function waitForBackend(page, timeout = 120_000) {
  await page.waitForFunction(
    () => document.querySelector('#backend-check')?.dataset.state !== 'pending',
    null,
    { timeout },
  );
  return page.evaluate(() => ({
    backend: document.querySelector('#backend').dataset.backend,
    label: document.querySelector('#backend').textContent,
    check: document.querySelector('#backend-check').dataset.state,
    checkText: document.querySelector('#backend-check').textContent,
  }));
}

/**
 * Drags t one slider step a frame, as a reader does (t = 50, 57, 64, ... wrapping below 950),
 * for `steps` frames. Resolves to the page's redraw times during the drag and, for each part of
 * a redraw (schedule, forward, ...), its time in every frame.
 */
export function dragT(page, steps) {
  return page.evaluate(async (steps) => {
    const slider = document.getElementById('t');
    const before = window.wasmBindings.render_timings().length;
    const parts = {};
    for (let i = 0; i < steps; i++) {
      slider.value = String(50 + ((i * 7) % 900));
      slider.dispatchEvent(new Event('input', { bubbles: true }));
      await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
      const flat = window.wasmBindings.render_parts();
      for (let k = 0; k < flat.length; k += 2) (parts[flat[k]] ??= []).push(flat[k + 1]);
    }
    const all = window.wasmBindings.render_timings();
    return { timings: all.slice(-(all.length - before)), parts };
  }, steps);
}

/**
 * The page's link (a URL) once the address bar has caught up: while controls move, the page
 * writes it at most every 250 ms (`LINK_EVERY_MS` in src/web/app.rs).
 */
export async function link(page) {
  await page.waitForFunction(() => !window.wasmBindings.link_pending(), null, { timeout: 10_000 });
  return new URL(await page.evaluate(() => location.href));
}

/** Waits for two animation frames, so a scheduled redraw has happened. */
export function settle(page) {
  return page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
}

/** A summary of a canvas's pixels: a hash, the share of non-white pixels and colour counts. */
export function canvasStats(page, id, colors = {}) {
  return page.evaluate(({ id, colors }) => {
    const c = document.getElementById(id);
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let hash = 2166136261 >>> 0;
    let ink = 0;
    const counts = Object.fromEntries(Object.keys(colors).map((k) => [k, 0]));
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      if (r < 245 || g < 245 || b < 245) ink++;
      for (const [name, [cr, cg, cb]] of Object.entries(colors)) {
        if (Math.abs(r - cr) < 30 && Math.abs(g - cg) < 30 && Math.abs(b - cb) < 30) counts[name]++;
      }
      hash = Math.imul(hash ^ (r | (g << 8) | (b << 16)), 16777619) >>> 0;
    }
    return {
      hash, ink: ink / (data.length / 4), counts,
      width: c.width, height: c.height, cssWidth: c.clientWidth, cssHeight: c.clientHeight,
    };
  }, { id, colors });
}

/** Drags a range input's thumb with the mouse from its current value to `value`, in steps. */
export async function dragSlider(page, id, value, steps = 12) {
  const box = await page.locator(`#${id}`).boundingBox();
  const { min, max, current } = await page.evaluate((id) => {
    const el = document.getElementById(id);
    return { min: +el.min, max: +el.max, current: +el.value };
  }, id);
  // Chromium's range thumb is about 16 px wide; its centre travels between these x positions.
  const thumb = 8;
  const xOf = (v) => box.x + thumb + ((v - min) / (max - min)) * (box.width - 2 * thumb);
  const y = box.y + box.height / 2;
  await page.mouse.move(xOf(current), y);
  await page.mouse.down();
  await page.mouse.move(xOf(value), y, { steps });
  await page.mouse.up();
  await settle(page);
}

export async function screenshot(page, name) {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

export const COLORS = {
  target: [170, 51, 119],
  noised: [0, 114, 178],
  weight: [230, 159, 0],
};

/**
 * For a test file: serves the page and launches Chromium before its tests, closes both after.
 * Returns an object whose `server` and `browser` are set once the tests run.
 */
export function servePageAndBrowser(options = {}) {
  const ctx = {};
  before(async () => {
    ctx.server = await serveDist();
    ctx.browser = await launch(options);
  });
  after(async () => {
    await ctx.browser?.close();
    await ctx.server?.close();
  });
  return ctx;
}

/**
 * The text of an element whose formulas are MathML, without white space: MathML's text joins
 * its tokens (`x_t = 0.5` reads `xt=0.5`), so patterns are written without spaces.
 */
export async function mathText(page, selector) {
  return (await page.locator(selector).textContent()).replace(/\s+/g, '');
}

/**
 * An init script for `openPage` that makes the page see a hardware WebGPU adapter (what
 * `navigator.gpu.requestAdapter` answers on a machine with a real GPU). The worker's burn-wgpu
 * still gets this machine's SwiftShader, so the backend race times real kernels; `speedup`
 * stands in for a fast GPU by dividing WebGPU's times (see src/worker/race.rs).
 */
export function hardwareAdapter(speedup) {
  const script = (speedup) => {
    if (navigator.gpu) {
      navigator.gpu.requestAdapter = async () => ({
        isFallbackAdapter: false,
        info: { vendor: 'stub', architecture: 'fast', device: '', description: 'a stubbed GPU', isFallbackAdapter: false },
      });
    }
    if (speedup) {
      const Real = window.Worker;
      window.Worker = class extends Real {
        constructor(...args) {
          super(...args);
          this.postMessage({ test: 'gpu-speedup', factor: speedup });
        }
      };
    }
  };
  return { content: `(${script})(${JSON.stringify(speedup)})` };
}

/**
 * Waits until the U-Net has loaded (and, with a hardware adapter, been timed on both backends)
 * and returns the footer's backend label: its data attributes and its text as `label`.
 */
export async function raced(page) {
  await page.waitForFunction(() => document.querySelector('#backend').dataset.digits, null, { timeout: 300_000 });
  return page.evaluate(() => ({ ...document.querySelector('#backend').dataset, label: document.querySelector('#backend').textContent }));
}

/**
 * Waits until the status element `id` (its `data-state`) is in one of `states`, and returns
 * its text.
 */
export async function untilState(page, id, states, timeout = 300_000) {
  await page.waitForFunction(
    ({ id, states }) => states.includes(document.getElementById(id).dataset.state),
    { id, states },
    { timeout },
  );
  return page.locator(`#${id}`).textContent();
}
