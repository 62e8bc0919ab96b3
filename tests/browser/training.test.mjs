// The training panel: a model trains in the page, its loss falls, particles land on the data,
// the posterior and score panels compare the model with the exact answer, the quality chart
// fills in, the command line trains the same model, and a learning rate far too high is caught
// with a message that Reset clears.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servePageAndBrowser, openPage, waitForBackend, canvasStats, screenshot, settle, COLORS, ROOT, link } from './harness.mjs';

const ctx = servePageAndBrowser();
const MODEL = [213, 94, 0];

async function waitForState(page, states, timeout) {
  await page.waitForFunction(
    (states) => states.includes(document.querySelector('#train-status').dataset.state),
    states,
    { timeout },
  );
  return page.locator('#train-status').textContent();
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('one click trains the default model, particles land on the roll, and every panel compares', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
  await waitForBackend(page);
  // The panel's settings are the command line's defaults.
  assert.deepEqual(
    await page.evaluate(() => ['train-steps', 'lr', 'hidden', 'batch', 'parameterization'].map((id) => document.getElementById(id).value)),
    ['1500', '0.015', '32', '256', 'epsilon'],
  );
  assert.match(await page.locator('#score-formula').textContent(), /Train the model below/);
  const before = await canvasStats(page, 'samples-canvas', COLORS);
  await page.click('#train');
  await waitForState(page, ['sampling', 'sampled', 'error'], 180_000);
  const losses = await page.evaluate(() => window.wasmBindings.training_losses());
  assert.equal(losses.length, 1500);
  assert.ok(mean(losses.slice(-100)) < 0.7 * mean(losses.slice(0, 20)), `loss ${mean(losses.slice(0, 20))} -> ${mean(losses.slice(-100))}`);
  const loss = await canvasStats(page, 'loss-canvas', COLORS);
  assert.ok(loss.counts.noised > 50, 'the loss curve is drawn');

  const status = await waitForState(page, ['sampled', 'error'], 120_000);
  assert.match(status, /Trained 1500 steps on the CPU in [\d.]+ s .* sampled 1000 points with DDIM \(η = 1\) in 100 steps/);
  // Particles are drawn in the forward panel's blue at 90 % opacity over white.
  const after = await canvasStats(page, 'samples-canvas', { particle: [26, 128, 186] });
  assert.notEqual(after.hash, before.hash);
  assert.ok(after.counts.particle > 200, `sampled particles are drawn (${after.counts.particle} px)`);

  // The quality chart: the full DDPM chain is about as close to fresh data as a second
  // sample of the data is, and one step is far off.
  await page.waitForFunction(() => /Quality measured/.test(document.querySelector('#train-status').textContent), null, { timeout: 120_000 });
  const flat = await page.evaluate(() => window.wasmBindings.training_quality());
  const rows = [];
  for (let i = 0; i < flat.length; i += 3) rows.push({ steps: flat[i], distance: flat[i + 1], ddim: flat[i + 2] === 1 });
  const ddpm = (k) => rows.find((r) => !r.ddim && r.steps === k).distance;
  assert.ok(ddpm(1000) < 0.01, `DDPM over all 1000 steps: energy distance ${ddpm(1000)}`);
  assert.ok(ddpm(1) > 20 * ddpm(1000), `one step is far worse: ${ddpm(1)} vs ${ddpm(1000)}`);
  assert.ok(rows.some((r) => r.ddim), 'DDIM is measured too');
  const quality = await canvasStats(page, 'quality-canvas', { ddpm: COLORS.noised, ddim: COLORS.target });
  assert.ok(quality.counts.ddpm > 100 && quality.counts.ddim > 100, JSON.stringify(quality.counts));

  // The posterior panel: the model's mean is drawn and stated beside mu*.
  await settle(page);
  const gap = await page.locator('#posterior-model').getAttribute('data-gap');
  const step = await page.locator('#posterior-model').getAttribute('data-step');
  assert.ok(Number(gap) < 3 * Number(step), `model mean ${gap} from mu*, a step is ${step}`);
  assert.ok((await canvasStats(page, 'posterior-canvas', { model: MODEL })).counts.model > 20);
  // The score panel: learned arrows in orange, pointing where the exact ones do.
  const angle = Number(await page.locator('#score-agreement').getAttribute('data-angle'));
  assert.ok(angle < 15, `median angle between learned and exact scores: ${angle}°`);
  assert.ok((await canvasStats(page, 'score-canvas', { model: MODEL })).counts.model > 200);

  // Scrubbing the chain back to its start shows the initial noise again.
  const end = await canvasStats(page, 'samples-canvas');
  await page.locator('#chain-step').fill('0');
  await settle(page);
  assert.match(await page.locator('#chain-t').textContent(), /x_(9\d\d|1000)/);
  const start = await canvasStats(page, 'samples-canvas');
  assert.notEqual(start.hash, end.hash, 'the scrubber moves through the stored chain');

  // A DDPM chain shortened to 20 steps ("skipping steps").
  await page.selectOption('#sampler', 'ddpm');
  await page.fill('#sample-steps', '20');
  await page.click('#sample');
  await page.waitForFunction(() => /DDPM in 20 steps/.test(document.querySelector('#train-status').textContent), null, { timeout: 60_000 });
  assert.notEqual((await canvasStats(page, 'samples-canvas')).hash, end.hash, 'a new chain draws new particles');
  await page.locator('#panel-score').scrollIntoViewIfNeeded();
  await screenshot(page, 'trained');
  assert.deepEqual(page.problems, []);
});

test('the page and the command line train the same model from the same defaults', async () => {
  const cli = join(ROOT, 'target/release/diffusion');
  assert.ok(existsSync(cli), `${cli} is built by cargo test --release, which runs before these tests`);
  const dir = mkdtempSync(join(tmpdir(), 'parity-'));
  execFileSync(cli, ['swissroll', 'train', '--steps', '50', '--out', join(dir, 'model')]);
  const native = readFileSync(join(dir, 'model/losses.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));

  const page = await openPage(ctx.browser, ctx.server.url);
  await waitForBackend(page);
  await page.fill('#train-steps', '50');
  await page.click('#train');
  await waitForState(page, ['sampling', 'sampled', 'error'], 60_000);
  const web = await page.evaluate(() => window.wasmBindings.training_losses());
  assert.equal(web.length, native.length);
  // The first loss is the untrained network's on the first batch: the same weights and the same
  // batch give the same number up to float rounding. Later steps drift apart slowly (wasm and
  // native sum in different orders, and Adam amplifies that), but stay close.
  console.log(`first losses: page ${web.slice(0, 3).join(', ')}; command line ${native.slice(0, 3).join(', ')}`);
  assert.ok(Math.abs(web[0] - native[0]) <= 1e-5 * native[0], `step 1: page ${web[0]}, command line ${native[0]}`);
  const tail = (xs) => mean(xs.slice(-10));
  assert.ok(Math.abs(tail(web) - tail(native)) <= 0.05 * tail(native), `last 10 steps: page ${tail(web)}, command line ${tail(native)}`);
  assert.deepEqual(page.problems, []);
});

test('Step takes one step, Pause stops, Train goes on', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
  await waitForBackend(page);
  await page.click('#step');
  await page.waitForFunction(() => window.wasmBindings.training_losses().length === 1);
  assert.equal(await page.locator('#train-status').getAttribute('data-state'), 'paused');
  await page.click('#step');
  await page.waitForFunction(() => window.wasmBindings.training_losses().length === 2);
  await page.click('#train');
  await page.waitForFunction(() => window.wasmBindings.training_losses().length > 20);
  await page.click('#pause');
  // The slice under way, and the one asked for after it, still land: two of 40 ms at most.
  const count = () => page.evaluate(() => window.wasmBindings.training_losses().length);
  await page.waitForTimeout(250);
  const paused = await count();
  await page.waitForTimeout(300);
  assert.equal(await count(), paused, 'Pause stops training');
  assert.match(await page.locator('#train-status').textContent(), /Paused at step/);
  // Train goes on from there, and the run ends with one loss a step: none lost or counted
  // twice across the pause.
  await page.click('#train');
  await page.waitForFunction(() => ['sampling', 'sampled'].includes(document.querySelector('#train-status').dataset.state));
  assert.equal(await count(), 1500);
  assert.deepEqual(page.problems, []);
});

test('a learning rate of 10 is caught as divergence, and Reset recovers', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
  await waitForBackend(page);
  await page.fill('#lr', '10');
  await page.fill('#train-steps', '300');
  await page.click('#train');
  const status = await waitForState(page, ['error', 'sampled'], 120_000);
  assert.match(status, /diverged/);
  await page.click('#reset');
  assert.match(await page.locator('#train-status').textContent(), /Reset/);
  assert.equal(await page.locator('#train-status').getAttribute('data-state'), 'idle');
  await page.fill('#lr', '0.015');
  await page.fill('#train-steps', '30');
  await page.click('#train');
  assert.match(await waitForState(page, ['sampled', 'error'], 120_000), /Trained 30 steps on the CPU/);
  assert.deepEqual(page.problems, []);
});

test('other data sets, and points drawn by hand, are diffused and trained on', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
  await waitForBackend(page);
  const roll = await canvasStats(page, 'forward-canvas');
  await page.selectOption('#data', 'moons');
  await settle(page);
  assert.notEqual((await canvasStats(page, 'forward-canvas')).hash, roll.hash);
  assert.match((await link(page)).href, /data=moons/);

  await page.selectOption('#data', 'drawn');
  await settle(page);
  assert.ok(await page.locator('#drawing-tools').isVisible());
  assert.match(await page.locator('#posterior-formula').textContent(), /no data points/);
  // Draw a stroke across the forward chart.
  const box = await page.locator('#forward-canvas').boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.6, { steps: 40 });
  await page.mouse.up();
  await settle(page);
  const count = Number((await page.locator('#drawing-count').textContent()).match(/\d+/)[0]);
  assert.ok(count >= 60, `${count} points drawn`);
  assert.doesNotMatch((await link(page)).href, /data=/, 'drawn points are not put in the link');
  await page.fill('#train-steps', '200');
  await page.click('#train');
  assert.match(await waitForState(page, ['sampled', 'error'], 120_000), /Trained 200 steps/);
  await page.click('#clear-drawing');
  await settle(page);
  assert.match(await page.locator('#drawing-count').textContent(), /^0 points/);
  assert.deepEqual(page.problems, []);
});

test('?panel=train embeds the training panel alone', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?panel=train`);
  await waitForBackend(page);
  assert.ok(await page.locator('#panel-train').isVisible());
  for (const other of ['schedule', 'forward', 'posterior', 'score']) {
    assert.ok(!(await page.locator(`#panel-${other}`).isVisible()), other);
  }
  await page.fill('#train-steps', '20');
  await page.click('#train');
  assert.match(await waitForState(page, ['sampled', 'error'], 60_000), /Trained 20 steps/);
  assert.deepEqual(page.problems, []);
});
