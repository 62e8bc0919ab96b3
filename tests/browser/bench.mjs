// Benchmarks (printed numbers, not pass/fail): the time to redraw every panel for one step of
// the t slider, measured inside the page over 2,000 Swiss-roll points; training in the page from
// one click; burn against TensorFlow.js on the same network in the same browser; the wasm size.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { serveDist, launch, openPage, waitForBackend, settle, dragT, EVERY_PANEL, DIST, hardwareAdapter, raced, untilState } from './harness.mjs';
import { loadTfjs, tfjsStepsPerSecond } from './tfjs.mjs';

/** Runs `run` `n` times, one after another, and returns the results. */
async function sequential(n, run) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await run());
  return out;
}

const STEPS = 200;
/** FLOPs of a grid of 16 digits in DDIM-25 without guidance (25 passes at batch 16): PyTorch's
 * FlopCounterMode on the same U-Net, convolutions and matrix products (scripts/bench_unet_torch.py). */
const UNET_GRID_GFLOP = 18.7;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const server = await serveDist();
const browser = await launch();
try {
  for (const scale of [1, 2]) {
    // Every panel on screen (1440x4200). One slider step a frame, as a reader dragging t
    // produces them: the page's first drag, started the moment burn is ready (it shares the
    // two cores with the worker's start, and the page's idle warm-up of its drawing code,
    // src/web/warm.rs, may not have ended), then a second drag; then, on a new page, the first
    // drag of a reader who reaches for the slider 4 s after burn is ready.
    for (const [drags, pause] of [[['first drag', 'second drag'], 0], [['first drag 4 s after burn is ready'], 4000]]) {
      const page = await openPage(browser, server.url, { scale, ...EVERY_PANEL });
      await waitForBackend(page);
      await settle(page);
      await page.waitForTimeout(pause);
      for (const drag of drags) {
        const left = await page.evaluate(() => window.wasmBindings.warm_up_left());
        const { timings, parts } = await dragT(page, STEPS);
        const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        console.log(`  where a redraw's time goes (median ms): ${Object.entries(parts).map(([k, v]) => `${k} ${median(v).toFixed(1)}`).join(', ')}`);
        const sorted = [...timings].sort((a, b) => a - b);
        console.log(
          `redraw of all panels per t step (2,000 points, devicePixelRatio ${scale}, ${drag}, ${sorted.length} redraws): ` +
            `p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms, ` +
            `max ${sorted[sorted.length - 1].toFixed(1)} ms; the warm-up had ${left} drawings left`,
        );
      }
      await page.context().close();
    }
  }
  // Training in the page: one click with the defaults, on the CPU fallback, until sampling starts:
  // at once when burn is ready, when the browser still runs the worker's code from its
  // baseline compiler, and as a reader who takes a few seconds to reach the Train button, once
  // the worker has warmed its code (`worker::warm_up`). (The page's Content-Security-Policy is
  // bypassed so that TensorFlow.js can be injected into the same page below; it changes
  // nothing the page itself runs.)
  let page;
  for (const [when, pause] of [['at once', 0], ['3 s after burn is ready', 3000]]) {
    if (page) await page.context().close();
    page = await openPage(browser, server.url, { bypassCSP: true });
    await waitForBackend(page);
    await page.waitForTimeout(pause);
    const started = Date.now();
    await page.click('#train');
    await untilState(page, 'train-status', ['sampling', 'sampled', 'error']);
    const seconds = (Date.now() - started) / 1000;
    const steps = (await page.evaluate(() => window.wasmBindings.training_losses())).length;
    console.log(`training in the page with the defaults (CPU fallback), clicked ${when}: ${steps} steps, ${seconds.toFixed(2)} s from the click to the first reverse step`);
    console.log(`  the panel says: ${await page.locator('#train-status').textContent()}`);
  }

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
  // The digits panel: the first grid of 16 digits on the CPU fallback: as the page starts (the
  // sweep's defaults, `sampling::digits::DEFAULTS`: DDIM in 25 steps, w = 0.5 on t in 350..650,
  // 32 network passes a digit), then in 10 steps (12 passes), then without guidance in 25 (25).
  {
    const page = await openPage(browser, `${server.url}?panel=digits`);
    await waitForBackend(page);
    await firstGrid(page, 'the CPU fallback, as the page starts');
    // The same on a page left 3 s after its weights came in, as a reader who scrolls to the
    // panel first: the worker has warmed its code by then.
    const rested = await openPage(browser, `${server.url}?panel=digits`);
    await waitForBackend(rested);
    await untilState(rested, 'digits-status', ['ready', 'done', 'error'], 600_000);
    await rested.waitForTimeout(3000);
    await firstGrid(rested, 'the CPU fallback, 3 s after the weights came in');
    await rested.context().close();
    await page.fill('#digits-steps', '10');
    await page.locator('#digits-steps').dispatchEvent('change');
    await firstGrid(page, 'the CPU fallback, 10 steps (12 network passes a digit)');
    await page.fill('#digits-steps', '25');
    await page.locator('#digits-steps').dispatchEvent('change');
    await page.fill('#digits-guidance', '0');
    const seconds = await firstGrid(page, 'the CPU fallback, guidance w = 0 (one network pass a step)');
    // How close to the machine's limit: the U-Net's work over the grid's time, against the rate
    // burn's own matrix product reaches in the same worker (WebAssembly SIMD, one thread).
    const rates = [];
    for (const side of [256, 512]) {
      const repeats = side === 256 ? 40 : 8;
      const best = Math.min(...(await sequential(3, () => page.evaluate(
        ({ side, repeats }) => window.wasmBindings.benchmark_matmul(side, repeats), { side, repeats }))));
      rates.push([side, (2 * side ** 3 * repeats) / (best / 1000) / 1e9]);
    }
    const unet = UNET_GRID_GFLOP / seconds;
    const ceiling = Math.max(...rates.map((r) => r[1]));
    console.log(`matrix product in the worker (burn-flex, wasm SIMD, one thread): ${rates.map(([n, r]) => `${n}x${n}x${n} ${r.toFixed(1)} GFLOP/s`).join(', ')}; ` +
      `the U-Net's grid without guidance reaches ${unet.toFixed(1)} GFLOP/s (${UNET_GRID_GFLOP} GFLOP in ${seconds.toFixed(2)} s), ${(100 * unet / ceiling).toFixed(0)} % of it`);
    await page.context().close();
  }
} finally {
  await browser.close();
}
// The same first grid on WebGPU: headless Chromium's only adapter here is SwiftShader, which
// runs the GPU's work on the CPU, so this measures burn-wgpu's path, not a GPU.
{
  const gpuBrowser = await launch({ webgpu: true });
  try {
    const page = await openPage(gpuBrowser, `${server.url}?panel=digits`);
    const backend = await waitForBackend(page, 300_000);
    if (backend.backend === 'WebGPU') await firstGrid(page, 'WebGPU (SwiftShader), as the page starts');
    else console.log(`digits panel on WebGPU: not run, the page chose ${backend.label}`);
    // The backend race (src/worker/race.rs) as a machine with a hardware adapter runs it; here
    // the adapter's description is stubbed and SwiftShader runs WebGPU's side.
    const racing = await openPage(gpuBrowser, `${server.url}?panel=digits`, { init: hardwareAdapter(0) });
    await waitForBackend(racing, 300_000);
    const { label } = await raced(racing);
    console.log(`backend race, each network timed on both (a stubbed hardware adapter, SwiftShader behind it): ${label.replace(/^.*?The 2-D network/, 'the 2-D network')}`);
  } finally {
    await gpuBrowser.close();
  }
}
// What an embed downloads against the whole page: every file the browser asks for, gzipped.
{
  const counter = await launch();
  const downloaded = async (query) => {
    const context = await counter.newContext({ viewport: { width: 1280, height: 1400 } });
    const page = await context.newPage();
    const urls = new Set();
    page.on('request', (r) => urls.add(new URL(r.url()).pathname));
    await page.goto(`${server.url}${query}`);
    await page.waitForSelector('body[data-ready=true]');
    await waitForBackend(page);
    // Give the digits' weights (when wanted) time to arrive.
    await page.waitForTimeout(3000);
    let gz = 0;
    for (const path of urls) {
      const bytes = await readFile(join(DIST, path.endsWith('/') ? 'index.html' : path)).catch(() => null);
      if (bytes) gz += gzipSync(bytes, { level: 9 }).length;
    }
    await context.close();
    return { files: urls.size, gz };
  };
  const rows = [];
  for (const [name, query] of [['the whole page', ''], ['schedule embed', '?panel=schedule'],
    ['forward embed', '?panel=forward'], ['posterior embed', '?panel=posterior'],
    ['train embed', '?panel=train'], ['digits embed', '?panel=digits']]) {
    const { files, gz } = await downloaded(query);
    rows.push(`${name} ${(gz / 1e6).toFixed(2)} MB (${files} files)`);
  }
  console.log(`downloads, gzipped (a chart embed never starts the worker, so never downloads burn): ${rows.join('; ')}`);
  await counter.close();
}
// Nothing blocks the page: main-thread tasks over 50 ms (PerformanceObserver "longtask") after
// the first render, while the 2-D model trains, samples and measures its quality, while a grid
// of digits is sampled, and during SDEdit. burn runs in the worker; the page's thread draws.
{
  const watcher = await launch();
  const context = await watcher.newContext({ viewport: { width: 1280, height: 1400 } });
  await context.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready=true]');
  await waitForBackend(page);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('#digits-status').dataset.state), null, { timeout: 120_000 });
  const atStart = await page.evaluate(() => window.longTasks.splice(0));
  const phase = async (name, run) => {
    await page.evaluate(() => window.longTasks.splice(0));
    const started = Date.now();
    await run();
    const tasks = await page.evaluate(() => window.longTasks.splice(0));
    const max = tasks.length ? Math.max(...tasks).toFixed(0) : '0';
    return `${name} (${((Date.now() - started) / 1000).toFixed(1)} s): ${tasks.length} over 50 ms, longest ${max} ms`;
  };
  const status = (id, states) => page.waitForFunction(
    ({ id, states }) => states.includes(document.getElementById(id).dataset.state), { id, states }, { timeout: 300_000 });
  const rows = [`start-up ${atStart.length} (longest ${atStart.length ? Math.max(...atStart).toFixed(0) : 0} ms, before the first render counts)`];
  rows.push(await phase('training, sampling and the quality chart', async () => {
    await page.click('#train');
    await page.waitForFunction(() => /Quality measured/.test(document.querySelector('#train-status').textContent), null, { timeout: 300_000 });
  }));
  rows.push(await phase('a grid of 16 digits', async () => {
    await page.click('#digits-sample');
    await status('digits-status', ['done', 'error']);
  }));
  rows.push(await phase('SDEdit', async () => {
    await page.click('#digits-sdedit');
    await status('digits-status', ['done', 'error']);
  }));
  console.log(`long tasks on the page's thread: ${rows.join('; ')}`);
  await watcher.close();
}
await server.close();

/** Clicks Sample once the weights are in and prints how long the grid took. */
async function firstGrid(page, where) {
  await untilState(page, 'digits-status', ['ready', 'done', 'error'], 600_000);
  const started = Date.now();
  await page.click('#digits-sample');
  await untilState(page, 'digits-status', ['done', 'error'], 600_000);
  const settings = await page.evaluate(() => ['digits-label', 'digits-guidance', 'digits-guided-from', 'digits-guided-to', 'digits-steps']
    .map((id) => `${id.replace('digits-', '')} ${document.getElementById(id)?.value}`).join(', '));
  const seconds = (Date.now() - started) / 1000;
  console.log(`digits panel, first grid of 16 on ${where} (${settings}): ${seconds.toFixed(2)} s ` +
    `from the click; the panel says: ${await page.locator('#digits-status').textContent()}`);
  return seconds;
}


// What a reader downloads: the page, its script, the wasm module and the digit model's weights.
{
  const mb = (n) => (n / 1e6).toFixed(2);
  const files = (await readdir(DIST)).filter((n) => /\.(html|js|wasm|css)$/.test(n))
    .concat(['assets/mnist/unet.json', 'assets/mnist/unet.safetensors']);
  let raw = 0;
  let gz = 0;
  for (const name of files) {
    const bytes = await readFile(join(DIST, name));
    const zipped = gzipSync(bytes, { level: 9 }).length;
    raw += bytes.length;
    gz += zipped;
    if (name.endsWith('.wasm') || name.endsWith('.safetensors')) console.log(`${name}: ${mb(bytes.length)} MB raw, ${mb(zipped)} MB gzipped`);
  }
  console.log(`the whole page (${files.length} files): ${mb(raw)} MB raw, ${mb(gz)} MB gzipped`);
}
