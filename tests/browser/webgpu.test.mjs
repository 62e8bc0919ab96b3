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
