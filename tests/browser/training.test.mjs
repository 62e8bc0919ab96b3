// The training panel: a model trains in the page, its loss falls, particles are sampled, and a
// learning rate far too high is caught with a message that Reset clears.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servePageAndBrowser, openPage, waitForBackend, canvasStats, screenshot, COLORS } from './harness.mjs';

const ctx = servePageAndBrowser();

async function waitForState(page, states, timeout) {
  await page.waitForFunction(
    (states) => states.includes(document.querySelector('#train-status').dataset.state),
    states,
    { timeout },
  );
  return page.locator('#train-status').textContent();
}

test('Train runs in the page, the loss falls, and Sample draws particles', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
  await waitForBackend(page);
  const before = await canvasStats(page, 'samples-canvas', COLORS);
  await page.fill('#train-steps', '400');
  await page.click('#train');
  const status = await waitForState(page, ['sampled', 'error'], 180_000);
  assert.match(status, /Trained 400 steps .* sampled 1000 points/);
  const losses = await page.evaluate(() => window.wasmBindings.training_losses());
  assert.equal(losses.length, 400);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(losses.slice(-50)) < 0.5 * mean(losses.slice(0, 20)), `loss ${mean(losses.slice(0, 20))} -> ${mean(losses.slice(-50))}`);
  const loss = await canvasStats(page, 'loss-canvas', COLORS);
  assert.ok(loss.counts.noised > 50, 'the loss curve is drawn');
  // Particles are drawn in the forward panel's blue at 90 % opacity over white.
  const after = await canvasStats(page, 'samples-canvas', { particle: [53, 133, 187] });
  assert.notEqual(after.hash, before.hash);
  assert.ok(after.counts.particle > 200, `sampled particles are drawn (${after.counts.particle} px)`);
  // DDPM on a chain shortened to 20 steps ("skipping steps").
  await page.selectOption('#sampler', 'ddpm');
  await page.fill('#sample-steps', '20');
  await page.click('#sample');
  await page.waitForFunction(() => /DDPM in 20 steps/.test(document.querySelector('#train-status').textContent), null, { timeout: 60_000 });
  const ddpm = await canvasStats(page, 'samples-canvas');
  assert.notEqual(ddpm.hash, after.hash, 'a new chain draws new particles');
  await page.locator('#panel-train').scrollIntoViewIfNeeded();
  await screenshot(page, 'trained');
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
  await page.fill('#lr', '0.003');
  await page.fill('#train-steps', '30');
  await page.click('#train');
  assert.match(await waitForState(page, ['sampled', 'error'], 120_000), /Trained 30 steps/);
  assert.deepEqual(page.problems, []);
});
