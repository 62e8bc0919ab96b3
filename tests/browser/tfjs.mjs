// TensorFlow.js on the same task as our page's trainer, for the benchmark: the same MLP
// (42 inputs: the point, 6 octaves of Fourier features per coordinate and 8 time frequencies;
// 3 hidden layers of SiLU; 2 outputs), the same batch of Swiss-roll points noised at t drawn
// as ceil(T u^5), the same loss and Adam. It runs inside the benchmark's own page, in the same
// headless Chromium, on each TensorFlow.js backend that starts there.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

const TFJS = join(ROOT, 'node_modules/@tensorflow/tfjs/dist/tf.min.js');
const WASM_DIR = join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');

/** Loads TensorFlow.js and its wasm backend into `page` (the wasm files are served by a route). */
export async function loadTfjs(page) {
  await page.route('**/tfjs-wasm/*', async (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop();
    route.fulfill({ body: await readFile(join(WASM_DIR, name)), contentType: 'application/wasm' });
  });
  await page.addScriptTag({ content: await readFile(TFJS, 'utf8') });
  await page.addScriptTag({ content: await readFile(join(WASM_DIR, 'tf-backend-wasm.min.js'), 'utf8') });
  await page.evaluate(() => window.tf.wasm.setWasmPaths(new URL('/tfjs-wasm/', location.href).href));
}

/**
 * Trains `steps` steps (after 20 of warm-up) on `backend` and returns steps per second, or
 * null when the backend does not start in this browser.
 */
export function tfjsStepsPerSecond(page, backend, { hidden = 32, batch = 256, steps = 300, relu = false } = {}) {
  return page.evaluate(async ({ backend, hidden, batch, steps, relu }) => {
    const tf = window.tf;
    if (!(await tf.setBackend(backend).catch(() => false))) return null;
    await tf.ready();
    // DDPM's linear schedule, T = 1000.
    const T = 1000;
    const alphaBar = new Float64Array(T + 1);
    alphaBar[0] = 1;
    for (let t = 1; t <= T; t++) alphaBar[t] = alphaBar[t - 1] * (1 - (1e-4 + ((0.02 - 1e-4) * (t - 1)) / (T - 1)));
    const roll = Array.from({ length: 2000 }, () => {
      const u = 1.5 * Math.PI * (1 + 2 * Math.random());
      return [(u * Math.cos(u)) / 10, (u * Math.sin(u)) / 10];
    });
    const normal = () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
    const IN = 2 + 4 * 6 + 2 * 8;
    function makeBatch() {
      const x = new Float32Array(batch * IN);
      const y = new Float32Array(batch * 2);
      for (let i = 0; i < batch; i++) {
        const [a, b] = roll[Math.floor(Math.random() * roll.length)];
        const t = Math.min(T, Math.max(1, Math.ceil(T * Math.random() ** 5)));
        const e0 = normal();
        const e1 = normal();
        const s = Math.sqrt(alphaBar[t]);
        const n = Math.sqrt(1 - alphaBar[t]);
        const p = [s * a + n * e0, s * b + n * e1];
        const row = x.subarray(i * IN, (i + 1) * IN);
        row[0] = p[0];
        row[1] = p[1];
        let k = 2;
        for (const c of p) {
          for (let o = 0; o < 6; o++) {
            row[k++] = Math.sin(c * 2 ** o);
            row[k++] = Math.cos(c * 2 ** o);
          }
        }
        for (let f = 0; f < 8; f++) row[k + f] = Math.sin(t * Math.exp((-f / 8) * Math.log(10000)));
        for (let f = 0; f < 8; f++) row[k + 8 + f] = Math.cos(t * Math.exp((-f / 8) * Math.log(10000)));
        y[2 * i] = e0;
        y[2 * i + 1] = e1;
      }
      return [tf.tensor2d(x, [batch, IN]), tf.tensor2d(y, [batch, 2])];
    }
    const dense = (i, o) => [tf.variable(tf.randomNormal([i, o], 0, Math.sqrt(1 / i))), tf.variable(tf.zeros([o]))];
    const layers = [dense(IN, hidden), dense(hidden, hidden), dense(hidden, hidden), dense(hidden, 2)];
    const optimizer = tf.train.adam(0.015);
    const step = () => {
      const [x, y] = makeBatch();
      const loss = optimizer.minimize(() => {
        let h = x;
        layers.forEach(([w, b], i) => {
          h = tf.add(tf.matMul(h, w), b);
          if (i < layers.length - 1) h = relu ? tf.relu(h) : tf.mul(h, tf.sigmoid(h));
        });
        return tf.mean(tf.sum(tf.square(tf.sub(h, y)), 1));
      }, true);
      x.dispose();
      y.dispose();
      return loss;
    };
    for (let i = 0; i < 20; i++) step().dispose();
    await tf.stack([step()]).data();
    const started = performance.now();
    const losses = [];
    for (let i = 0; i < steps; i++) losses.push(step());
    const all = tf.stack(losses);
    const values = await all.data();
    const seconds = (performance.now() - started) / 1000;
    tf.dispose([...losses, all]);
    layers.flat().forEach((v) => v.dispose());
    optimizer.dispose();
    if (!values.every(Number.isFinite)) throw new Error(`TensorFlow.js (${backend}) diverged`);
    return steps / seconds;
  }, { backend, hidden, batch, steps, relu });
}
