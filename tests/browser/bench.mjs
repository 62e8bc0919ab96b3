// Benchmarks (printed numbers, not pass/fail): the time to redraw every panel for one step of
// the t slider, measured inside the page over 2,000 Swiss-roll points, and the size of the wasm.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { serveDist, launch, openPage, waitForBackend, settle, DIST } from './harness.mjs';

const STEPS = 200;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const server = await serveDist();
const browser = await launch();
try {
  for (const scale of [1, 2]) {
    const page = await openPage(browser, server.url, { scale });
    await waitForBackend(page);
    await settle(page);
    // One slider step a frame, as a reader dragging t produces them.
    const timings = await page.evaluate(async (steps) => {
      const slider = document.getElementById('t');
      const before = window.wasmBindings.render_timings().length;
      for (let i = 0; i < steps; i++) {
        slider.value = String(50 + ((i * 7) % 900));
        slider.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
      }
      return window.wasmBindings.render_timings().slice(-(window.wasmBindings.render_timings().length - before));
    }, STEPS);
    const sorted = [...timings].sort((a, b) => a - b);
    console.log(
      `redraw of all panels per t step (2,000 points, devicePixelRatio ${scale}, ${sorted.length} redraws): ` +
        `p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms, ` +
        `max ${sorted[sorted.length - 1].toFixed(1)} ms`,
    );
    await page.context().close();
  }
  // Training in the page: the default network and batch, on the CPU fallback.
  const page = await openPage(browser, server.url);
  await waitForBackend(page);
  await page.fill('#train-steps', '300');
  const started = Date.now();
  await page.click('#train');
  await page.waitForFunction(() => ['sampled', 'error'].includes(document.querySelector('#train-status').dataset.state), null, { timeout: 300_000 });
  const seconds = (Date.now() - started) / 1000;
  const steps = (await page.evaluate(() => window.wasmBindings.training_losses())).length;
  console.log(`training in the page (CPU fallback, MLP 34-128-128-128-2, batch 256, Adam): ${steps} steps + 100 sampling steps in ${seconds.toFixed(1)} s, about ${(steps / seconds).toFixed(0)} steps/s`);
  await page.context().close();
} finally {
  await browser.close();
  await server.close();
}

for (const name of await readdir(DIST)) {
  if (!name.endsWith('.wasm')) continue;
  const bytes = await readFile(join(DIST, name));
  const mb = (n) => (n / 1e6).toFixed(2);
  console.log(`wasm ${name}: ${mb((await stat(join(DIST, name))).size)} MB raw, ${mb(gzipSync(bytes, { level: 9 }).length)} MB gzipped`);
}
