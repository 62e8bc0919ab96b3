// A training run interrupted by Reset, by a change of data or by a closed tab leaves nothing
// running: no more requests to the worker, no animation frames or timers asked for while the
// page is idle, no worker left behind; and the next run starts clean (its first loss is a
// fresh page's first loss). A lost GPU is covered in webgpu.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servePageAndBrowser, openPage, waitForBackend, settle } from './harness.mjs';

const ctx = servePageAndBrowser();

// Counts what the page asks of the browser and of its worker, by kind.
function instrument() {
  window.asked = { frames: 0, timers: 0, requests: {} };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (f) => { window.asked.frames++; return raf(f); };
  const timeout = window.setTimeout.bind(window);
  window.setTimeout = (f, ms, ...rest) => { window.asked.timers++; return timeout(f, ms, ...rest); };
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message, transfer) {
    try {
      const type = JSON.parse(message.header).type;
      window.asked.requests[type] = (window.asked.requests[type] ?? 0) + 1;
    } catch { /* not a protocol message */ }
    return post.call(this, message, transfer);
  };
}

const asked = (page) => page.evaluate(() => JSON.parse(JSON.stringify(window.asked)));

/** What the page asks for over `ms` of doing nothing. */
async function idle(page, ms = 1500) {
  const before = await asked(page);
  await page.waitForTimeout(ms);
  const after = await asked(page);
  const requests = Object.fromEntries(Object.entries(after.requests)
    .map(([k, v]) => [k, v - (before.requests[k] ?? 0)]).filter(([, v]) => v > 0));
  return { frames: after.frames - before.frames, timers: after.timers - before.timers, requests };
}

const losses = (page) => page.evaluate(() => [...window.wasmBindings.training_losses()]);

async function trainAWhile(page) {
  await page.click('#train');
  await page.waitForFunction(() => window.wasmBindings.training_losses().length > 100, null, { timeout: 60_000 });
}

test('Reset in the middle of training stops everything, and the next run starts clean', async () => {
  const fresh = await openPage(ctx.browser, `${ctx.server.url}?steps=300`);
  await waitForBackend(fresh);
  await fresh.click('#train');
  await fresh.waitForFunction(() => window.wasmBindings.training_losses().length > 0, null, { timeout: 60_000 });
  const firstLoss = (await losses(fresh))[0];
  await fresh.close();

  const page = await openPage(ctx.browser, `${ctx.server.url}?steps=5000`, { init: instrument });
  await waitForBackend(page);
  await trainAWhile(page);
  await page.click('#reset');
  await page.waitForTimeout(300); // the slice in flight comes back and is dropped
  const quiet = await idle(page);
  assert.deepEqual(quiet.requests, {}, 'no request to the worker after Reset');
  assert.equal(quiet.frames, 0, 'no animation frame asked for after Reset');
  assert.ok(quiet.timers <= 1, `${quiet.timers} timers set while idle`);
  assert.deepEqual(await losses(page), []);

  await page.fill('#train-steps', '300');
  await page.click('#train');
  await page.waitForFunction(() => window.wasmBindings.training_losses().length > 0, null, { timeout: 60_000 });
  assert.equal((await losses(page))[0], firstLoss, 'the new run begins where a fresh page begins');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('changing the data in the middle of training stops the run; Train starts one on the new data', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?steps=5000`, { init: instrument });
  await waitForBackend(page);
  await trainAWhile(page);
  await page.selectOption('#data', 'moons');
  await page.waitForFunction(() => document.querySelector('#train-status').dataset.state === 'stopped');
  assert.match(await page.locator('#train-status').textContent(), /data changed/);
  await page.waitForTimeout(300);
  const quiet = await idle(page);
  assert.deepEqual(quiet.requests, {}, 'no request to the worker after the data changed');
  assert.equal(quiet.frames, 0);

  await page.fill('#train-steps', '200');
  await page.click('#train');
  await page.waitForFunction(() => ['sampling', 'sampled'].includes(document.querySelector('#train-status').dataset.state), null, { timeout: 120_000 });
  const run = await losses(page);
  assert.equal(run.length, 200, 'a new run of the new length, not the old one resumed');
  const status = await page.locator('#train-status').textContent();
  assert.match(status, /Trained 200 steps/);
  // The posterior panel compares the new model (trained on the moons) with the exact target.
  await page.locator('#panel-posterior').scrollIntoViewIfNeeded();
  await page.waitForSelector('#posterior-model', { timeout: 30_000 });
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('closing the tab while training ends the worker', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?steps=5000`);
  await waitForBackend(page);
  const workers = page.workers();
  assert.equal(workers.length, 1, 'one worker');
  const closed = new Promise((ok) => workers[0].once('close', ok));
  await trainAWhile(page);
  await page.close({ runBeforeUnload: true });
  await Promise.race([closed, new Promise((_, no) => setTimeout(() => no(new Error('the worker outlived its tab')), 5000))]);
});

test('an idle page asks for nothing: no frames, no timers, no requests', async () => {
  const page = await openPage(ctx.browser, ctx.server.url, { init: instrument });
  await waitForBackend(page);
  await settle(page);
  await page.waitForTimeout(2500); // past the worker's delayed start and the first descriptions
  const quiet = await idle(page, 2000);
  assert.deepEqual(quiet, { frames: 0, timers: 0, requests: {} });
});
