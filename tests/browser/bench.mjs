// Benchmarks (printed numbers, not pass/fail): the time to redraw every panel for one step of
// the t slider, measured inside the page over 2,000 Swiss-roll points; training in the page from
// one click; burn against TensorFlow.js on the same network in the same browser; the wasm size.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { serveDist, launch, openPage, waitForBackend, settle, DIST } from './harness.mjs';
import { loadTfjs, tfjsStepsPerSecond } from './tfjs.mjs';

/** Runs `run` `n` times, one after another, and returns the results. */
async function sequential(n, run) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await run());
  return out;
}

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
  // Training in the page: one click with the defaults, on the CPU fallback, until sampling starts.
  const page = await openPage(browser, server.url);
  await waitForBackend(page);
  const started = Date.now();
  await page.click('#train');
  await page.waitForFunction(() => ['sampling', 'sampled', 'error'].includes(document.querySelector('#train-status').dataset.state), null, { timeout: 300_000 });
  const seconds = (Date.now() - started) / 1000;
  const steps = (await page.evaluate(() => window.wasmBindings.training_losses())).length;
  console.log(`training in the page with the defaults (CPU fallback): ${steps} steps, ${seconds.toFixed(2)} s from the click to the first reverse step`);
  console.log(`  the panel says: ${await page.locator('#train-status').textContent()}`);

  // burn against TensorFlow.js in this same browser: the same MLP (42-32-32-32-2), batch 256,
  // Adam, losses read once at the end; 300 steps after a warm-up, best of three runs.
  await loadTfjs(page);
  for (const relu of [true, false]) {
    const activation = relu ? 'ReLU (our default)' : 'SiLU';
    const best = async (run) => Math.max(...(await sequential(3, run)).map((v) => v ?? 0));
    const ours = await best(async () => 300 / (await page.evaluate((relu) => window.wasmBindings.benchmark_training(300, 32, 256, relu), relu)) * 1000);
    const rows = [`burn (flex, wasm simd128) ${ours.toFixed(0)}`];
    let fastest = 0;
    for (const backend of ['wasm', 'webgl', 'cpu']) {
      const tf = await best(() => tfjsStepsPerSecond(page, backend, { relu }).catch(() => null));
      if (!tf) {
        rows.push(`TensorFlow.js ${backend}: did not start`);
        continue;
      }
      fastest = Math.max(fastest, tf);
      rows.push(`TensorFlow.js ${backend} ${tf.toFixed(0)}`);
    }
    console.log(`training steps/s, ${activation}: ${rows.join(', ')}; burn is ${(ours / fastest).toFixed(1)}x TensorFlow.js's fastest backend here`);
  }
  await page.context().close();
  // The digits panel: the first grid of 16 digits, DDIM in 25 steps, on the CPU fallback.
  {
    const page = await openPage(browser, `${server.url}?panel=digits`);
    await waitForBackend(page);
    await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('#digits-status').dataset.state), null, { timeout: 120_000 });
    for (const w of ['2', '0']) {
      await page.fill('#digits-guidance', w);
      const started = Date.now();
      await page.click('#digits-sample');
      await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('#digits-status').dataset.state), null, { timeout: 300_000 });
      console.log(`digits panel, 16 digits with DDIM in 25 steps on the CPU fallback, guidance w = ${w}${w === '0' ? ' (one network pass a step)' : ' (two passes a step)'}: ` +
        `${((Date.now() - started) / 1000).toFixed(2)} s from the click; the panel says: ${await page.locator('#digits-status').textContent()}`);
    }
    await page.context().close();
  }
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
