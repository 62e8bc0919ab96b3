// The WebGPU path: with --enable-unsafe-webgpu, headless Chromium offers a SwiftShader adapter.
// A software adapter is slower than burn's CPU backend, so by default the page's worker does not
// use it; asked for by name (`?device=webgpu`), burn-wgpu starts on it and the tensor check runs
// real GPU kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servePageAndBrowser, openPage, waitForBackend, canvasStats, screenshot, hardwareAdapter, raced, untilState } from './harness.mjs';

const ctx = servePageAndBrowser({ webgpu: true });

/** Trains 10 steps and samples in 5 with the panel's device; returns the panel's status. */
async function trainTen(page) {
  await page.fill('#train-steps', '10');
  await page.fill('#sample-steps', '5');
  await page.click('#train');
  return untilState(page, 'train-status', ['sampled', 'error']);
}

/** Takes the first of 4 reverse steps of a digit grid; returns the panel's status. */
async function stepDigits(page) {
  await page.fill('#digits-steps', '4');
  await page.click('#digits-step');
  return untilState(page, 'digits-status', ['paused', 'error']);
}

test('by default a software WebGPU adapter is passed over for the CPU, and the page says why', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
  const backend = await waitForBackend(page, 300_000);
  assert.equal(backend.backend, 'CPU', backend.label);
  assert.match(backend.label, /software renderer \(.*SwiftShader.*\)/i);
  assert.equal(backend.check, 'ok', backend.checkText);
  assert.equal(await page.locator('#train-device-webgpu').isDisabled(), true, 'WebGPU is not offered');
  assert.deepEqual(page.problems, []);
});

test('burn runs on WebGPU when asked for by name, and its result matches the math core', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?device=webgpu`);
  const backend = await waitForBackend(page, 300_000);
  assert.equal(backend.backend, 'WebGPU', backend.label);
  assert.equal(backend.check, 'ok', backend.checkText);
  assert.match(backend.checkText, /on WebGPU matches the math core/);
  const s = await canvasStats(page, 'forward-canvas');
  assert.ok(s.ink > 0.02);
  await screenshot(page, 'webgpu');
  assert.deepEqual(page.problems, []);
});

test('the model trains and samples on WebGPU (SwiftShader here, so only a few steps)', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?device=webgpu`);
  await waitForBackend(page, 300_000);
  assert.equal(await page.locator('#train-device').inputValue(), 'webgpu');
  assert.match(await trainTen(page), /Trained 10 steps on WebGPU .* in 5 steps/);
  const losses = await page.evaluate(() => window.wasmBindings.training_losses());
  assert.ok(losses.length === 10 && losses.every(Number.isFinite), String(losses));
  assert.deepEqual(page.problems, []);
});

test('digits sample on WebGPU, and when the device is lost the panel carries on on the CPU', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?panel=digits&device=webgpu`);
  await waitForBackend(page, 300_000);
  await page.waitForFunction(
    () => ['ready', 'error'].includes(document.querySelector('#digits-status').dataset.state),
    null,
    { timeout: 300_000 },
  );
  assert.match(await page.locator('#digits-status').textContent(), /U-Net loaded/);
  assert.match(await stepDigits(page), /Step 1\/4, t = \d+, on WebGPU/);
  const before = await canvasStats(page, 'digits-canvas');

  // What a driver reset or a sleeping laptop does to the page: the GPU device goes away.
  // burn-wgpu lives in the page's worker: its loader destroys the devices it saw.
  await page.evaluate(() => window.playgroundWorker.postMessage({ test: 'lose-gpu' }));
  await page.waitForFunction(() => document.querySelector('#backend').dataset.backend === 'CPU', null, { timeout: 30_000 });
  assert.match(await page.locator('#backend').textContent(), /CPU .*WebGPU stopped/);
  // WebGPU is no longer offered, and "auto" no longer claims it.
  assert.equal(await page.locator('#train-device-webgpu').isDisabled(), true);
  assert.equal((await page.locator('#train-device-auto').textContent()).trim(), 'auto');
  await page.click('#digits-sample');
  await page.waitForFunction(
    () => ['done', 'error'].includes(document.querySelector('#digits-status').dataset.state),
    null,
    { timeout: 120_000 },
  );
  const status = await page.locator('#digits-status').textContent();
  assert.match(status, /WebGPU stopped .* the digits now run on the CPU\. 16 digits in 4 steps on CPU/);
  assert.notEqual((await canvasStats(page, 'digits-canvas')).hash, before.hash, 'the grid goes on changing');
  await screenshot(page, 'webgpu-lost');
  // burn-wgpu may complain about the destroyed device on the console; exceptions are bugs.
  assert.deepEqual(page.problems.filter((p) => p.startsWith('exception')), []);
});

test('with a hardware adapter each network is timed on both backends: a fast GPU wins and runs both', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?panel=digits`, { init: hardwareAdapter(1000) });
  await waitForBackend(page, 300_000);
  const backend = await raced(page);
  assert.equal(backend.backend, 'WebGPU', backend.label);
  assert.equal(backend.train, 'WebGPU', backend.label);
  assert.equal(backend.digits, 'WebGPU', backend.label);
  assert.match(backend.label, /The 2-D network: WebGPU, [\d.]+ ms for a training step of the 2-D network against [\d.]+ ms on the CPU \([\d.]+x\)/);
  assert.match(backend.label, /The U-Net: WebGPU, [\d.]+ ms for a pass of the U-Net over 16 digits against [\d.]+ ms on the CPU/);
  // The U-Net then samples where it won.
  assert.match(await stepDigits(page), /Step 1\/4, t = \d+, on WebGPU/);
  assert.deepEqual(page.problems, []);
});

test('a hardware-looking adapter that is slower loses the race; the reader can still train on it', async () => {
  const page = await openPage(ctx.browser, ctx.server.url, { init: hardwareAdapter(0) });
  await waitForBackend(page, 300_000);
  const backend = await raced(page);
  // The worker has WebGPU, but SwiftShader is slower than burn's CPU backend for both.
  assert.equal(backend.backend, 'WebGPU', backend.label);
  assert.equal(backend.train, 'CPU', backend.label);
  assert.equal(backend.digits, 'CPU', backend.label);
  assert.match(backend.label, /The 2-D network: CPU, [\d.]+ ms for a training step of the 2-D network against [\d.]+ ms on WebGPU/);
  assert.match(backend.label, /The U-Net: CPU, [\d.]+ ms for a pass of the U-Net over 16 digits against [\d.]+ ms on WebGPU/);
  assert.equal((await page.locator('#train-device-auto').textContent()).trim(), 'auto (CPU)');
  assert.match(await trainTen(page), /Trained 10 steps on the CPU/);
  // Named, WebGPU is used anyway.
  await page.selectOption('#train-device', 'webgpu');
  await page.click('#reset');
  assert.match(await trainTen(page), /Trained 10 steps on WebGPU/);
  assert.deepEqual(page.problems, []);
});
