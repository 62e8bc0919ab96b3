// The WebGPU path: with --enable-unsafe-webgpu, headless Chromium offers a SwiftShader adapter,
// burn-wgpu starts on it, and the tensor check runs real GPU kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servePageAndBrowser, openPage, waitForBackend, canvasStats, screenshot } from './harness.mjs';

const ctx = servePageAndBrowser({ webgpu: true });

test('burn runs on WebGPU and its result matches the math core', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
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
  const page = await openPage(ctx.browser, ctx.server.url);
  await waitForBackend(page, 300_000);
  assert.equal(await page.locator('#train-device').inputValue(), 'webgpu', 'WebGPU is the default where the page runs on it');
  await page.fill('#train-steps', '10');
  await page.fill('#sample-steps', '5');
  await page.click('#train');
  await page.waitForFunction(
    () => ['sampled', 'error'].includes(document.querySelector('#train-status').dataset.state),
    null,
    { timeout: 300_000 },
  );
  assert.match(await page.locator('#train-status').textContent(), /Trained 10 steps on WebGPU .* in 5 steps/);
  const losses = await page.evaluate(() => window.wasmBindings.training_losses());
  assert.ok(losses.length === 10 && losses.every(Number.isFinite), String(losses));
  assert.deepEqual(page.problems, []);
});
