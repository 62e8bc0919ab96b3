// burn against ONNX Runtime Web on the digit U-Net, in the same headless Chromium and the same
// page: the page's digits panel samples a grid of 16 digits in its worker (burn, CPU, wasm
// SIMD, one thread), and ONNX Runtime Web (its wasm backend, SIMD, one thread) runs the same
// network with the same weights, exported from the PyTorch twin, on the page's own thread.
//
//   python3 scripts/export_onnx.py target/unet.onnx        # needs pip install torch onnx
//   npm install --no-save onnxruntime-web@1.30.0           # not a dependency of the tests
//   node tests/browser/ort.mjs                             # after trunk build
//
// Printed: one network evaluation at batch 16 (burn: the grid's time over its 25 evaluations,
// so burn's share includes the chain's arithmetic and the messages to its worker) and the whole
// grid (DDIM in 25 steps, no guidance), each as a ratio.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serveDist, launch, openPage, waitForBackend, ROOT } from './harness.mjs';

const ORT = join(process.env.ORT_DIR ?? join(ROOT, 'node_modules/onnxruntime-web'), 'dist');
const MODEL = process.env.ONNX_MODEL ?? join(ROOT, 'target/unet.onnx');
for (const [what, path, how] of [['ONNX Runtime Web', ORT, 'npm install --no-save onnxruntime-web@1.30.0'],
  ['the exported U-Net', MODEL, 'python3 scripts/export_onnx.py target/unet.onnx']]) {
  if (!existsSync(path)) {
    console.log(`burn against ONNX Runtime Web: not run, ${what} is missing (${path}); ${how}`);
    process.exit(0);
  }
}

const server = await serveDist();
const browser = await launch();
try {
  const page = await openPage(browser, `${server.url}?panel=digits&w=0&dsteps=25&deta=0&dsampler=ddim`, { bypassCSP: true });
  await waitForBackend(page);
  const state = () => page.evaluate(() => document.querySelector('#digits-status').dataset.state);
  const until = (states) => page.waitForFunction(
    (states) => states.includes(document.querySelector('#digits-status').dataset.state), states, { timeout: 300_000 });
  await until(['ready', 'done']);

  // burn: three grids after one of warm-up, timed from the click to the finished grid.
  const burnGrids = [];
  for (let run = 0; run < 4; run++) {
    const started = Date.now();
    await page.click('#digits-sample');
    await until(['done', 'error']);
    if ((await state()) === 'error') throw new Error(await page.locator('#digits-status').textContent());
    if (run > 0) burnGrids.push(Date.now() - started);
  }
  const burnGrid = median(burnGrids);

  // ONNX Runtime Web in the same page.
  await page.route('**/ort/*', async (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop();
    const type = name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
    route.fulfill({ body: await readFile(join(ORT, name)), contentType: type });
  });
  await page.addScriptTag({ content: await readFile(join(ORT, 'ort.wasm.min.js'), 'utf8') });
  const model = [...await readFile(MODEL)];
  const ort = await page.evaluate(async (model) => {
    const ort = window.ort;
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.simd = true;
    ort.env.wasm.wasmPaths = new URL('/ort/', location.href).href;
    const session = await ort.InferenceSession.create(new Uint8Array(model), { executionProviders: ['wasm'] });
    const n = 16, side = 28;
    const feeds = (x, t) => ({
      x: new ort.Tensor('float32', x, [n, 1, side, side]),
      t: new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => BigInt(t)), [n]),
      labels: new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => 10n), [n]),
    });
    const noise = () => Float32Array.from({ length: n * side * side }, () => {
      const u = 1 - Math.random(), v = Math.random();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    });
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    // One evaluation: three of warm-up, then the median of 21.
    const x = noise();
    for (let i = 0; i < 3; i++) await session.run(feeds(x, 500));
    const evals = [];
    for (let i = 0; i < 21; i++) {
      const started = performance.now();
      await session.run(feeds(x, 500));
      evals.push(performance.now() - started);
    }
    // The grid: DDIM, 25 steps, eta 0, no guidance (the page's timesteps rule is close enough:
    // the work is the 25 evaluations).
    const T = 1000;
    const alphaBar = new Float64Array(T + 1);
    alphaBar[0] = 1;
    for (let t = 1; t <= T; t++) alphaBar[t] = alphaBar[t - 1] * (1 - (1e-4 + ((0.02 - 1e-4) * (t - 1)) / (T - 1)));
    const steps = Array.from({ length: 25 }, (_, i) => Math.round(T - (i * (T - 1)) / 24));
    const grids = [];
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      let z = noise();
      for (let i = 0; i < steps.length; i++) {
        const t = steps[i], prev = i + 1 < steps.length ? steps[i + 1] : 0;
        const eps = (await session.run(feeds(z, t))).eps.data;
        const a = alphaBar[t], b = alphaBar[prev];
        const next = new Float32Array(z.length);
        for (let j = 0; j < z.length; j++) {
          const x0 = Math.max(-1, Math.min(1, (z[j] - Math.sqrt(1 - a) * eps[j]) / Math.sqrt(a)));
          next[j] = Math.sqrt(b) * x0 + Math.sqrt(1 - b) * eps[j];
        }
        z = next;
      }
      grids.push(performance.now() - started);
    }
    return { evaluation: median(evals), grid: median(grids), version: ort.env.versions?.web ?? '' };
  }, model);

  const burnEval = burnGrid / 25;
  console.log(`burn against ONNX Runtime Web ${ort.version} (wasm, SIMD, one thread), digit U-Net, batch 16:`);
  console.log(`  one evaluation: burn ${burnEval.toFixed(1)} ms (a grid's time / 25), ONNX Runtime Web ${ort.evaluation.toFixed(1)} ms: ` +
    `burn is ${(ort.evaluation / burnEval).toFixed(2)}x as fast`);
  console.log(`  grid of 16, DDIM-25, no guidance: burn ${burnGrid.toFixed(0)} ms (click to grid, in its worker), ` +
    `ONNX Runtime Web ${ort.grid.toFixed(0)} ms: burn is ${(ort.grid / burnGrid).toFixed(2)}x as fast`);
  await page.context().close();
} finally {
  await browser.close();
  await server.close();
}

function median(xs) {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}
