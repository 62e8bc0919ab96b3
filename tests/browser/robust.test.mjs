// Nothing a link or a host page sends can break the page: generated hostile links load, say
// what they changed and leave a link that needs no correction; malformed messages change
// nothing and throw nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servePageAndBrowser, openPage, settle } from './harness.mjs';

const ctx = servePageAndBrowser();

/** A small seeded generator, so a failing link can be found again. */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 2246822519) + 0x9e3779b9) >>> 0;
    return s / 2 ** 32;
  };
}

const KEYS = ['data', 'kind', 'T', 'b1', 'bT', 't', 'seed', 'x', 'y', 'lr', 'steps', 'hidden', 'batch',
  'predict', 'device', 'sampler', 'rsteps', 'eta', 'chain', 'digit', 'w', 'wfrom', 'wto', 'dsampler',
  'dsteps', 'deta', 'dseed', 'sdt', 'panel', 'hide', 'lock', 'train'];
const VALUES = ['', '-1', '0', '1', '1e308', '-1e308', 'NaN', 'Infinity', '-inf', '2.5', '1e3', '0x10',
  '%ZZ', '%E2%82', '☃', 'drawn', 'cosine', 'moons', 'T,t,nope', 'digits', '12345678901234567890',
  'x'.repeat(10_000), '<script>alert(1)</script>', '"quoted"', '9999999', '0.0000001'];

function hostileLink(next) {
  const pick = (xs) => xs[Math.floor(next() * xs.length)];
  const pairs = [];
  const n = 1 + Math.floor(next() * 8);
  for (let i = 0; i < n; i++) {
    const key = next() < 0.85 ? pick(KEYS) : pick(['', 'zzz', '%ZZ', 'T T', '☃']);
    pairs.push(`${key}=${pick(VALUES)}`);
  }
  // At most one 10 kB value: an HTTP server (this test's too) refuses longer addresses.
  while (pairs.join('&').length > 12_000) pairs.pop();
  return pairs.join('&');
}

test('100 generated hostile links load, are corrected and said, and leave a clean link', async () => {
  const next = random(20261123);
  const page = await openPage(ctx.browser, ctx.server.url);
  for (let i = 0; i < 100; i++) {
    const query = hostileLink(next);
    await page.goto(`${ctx.server.url}?${query}`);
    await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
    assert.equal(await page.locator('#fatal').isHidden(), true, `fatal error for ?${query.slice(0, 200)}`);
    // The page's own link now reads back with nothing to correct.
    const rewritten = new URL(page.url()).search;
    await page.goto(`${ctx.server.url}${rewritten}`);
    await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
    assert.equal(await page.locator('#notices').isHidden(), true,
      `?${query.slice(0, 200)} became ${rewritten}, which still needs: ${await page.locator('#notices').textContent()}`);
    assert.equal(new URL(page.url()).search, rewritten, 'a clean link stays as it is');
  }
  assert.deepEqual(page.problems, []);
});

test('malformed messages from a host page change nothing and throw nothing', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?T=300&t=40&lr=0.01`);
  await settle(page);
  const state = () => page.evaluate(() => new Promise((resolve) => {
    const listen = (e) => {
      if (e.data?.type === 'diffusion-playground:state') {
        removeEventListener('message', listen);
        resolve(e.data.params);
      }
    };
    addEventListener('message', listen);
    postMessage({ type: 'diffusion-playground:get' }, '*');
  }));
  const before = await state();
  const url = page.url();
  await page.evaluate(() => {
    const deep = (n) => (n === 0 ? 1 : { a: deep(n - 1) });
    const junk = [
      undefined, null, 0, -1, NaN, 'diffusion-playground:set', [], [1, 2, 3], new Array(100_000).fill(7),
      { type: null }, { type: 42 }, { type: {} }, { type: 'diffusion-playground:' }, { type: 'diffusion-playground:SET' },
      { type: 'diffusion-playground:set' }, { type: 'diffusion-playground:set', params: null },
      { type: 'diffusion-playground:set', params: 'T=5' }, { type: 'diffusion-playground:set', params: [['T', 5]] },
      { type: 'diffusion-playground:set', params: new Array(100_000).fill(1) },
      { type: 'diffusion-playground:set', params: { t: { deep: deep(200) } } },
      { type: 'diffusion-playground:set', params: { t: [1, 2], T: null, lr: {}, kind: ['cosine'] } },
      { type: 'diffusion-playground:set', params: { t: 'abc', T: '', lr: 'NaN', kind: 'nope', digit: 'ten' } },
      { type: 'diffusion-playground:action' }, { type: 'diffusion-playground:action', action: 7 },
      { type: 'diffusion-playground:action', action: 'explode' }, { type: 'diffusion-playground:action', action: 'train', panel: 'nope' },
      { type: 'diffusion-playground:action', action: ['train'] }, { type: 'diffusion-playground:height', height: 5 },
      { type: 'diffusion-playground:state', params: { t: 999 } }, { type: 'diffusion-playground:event', event: 'trained' },
      { type: 'other-app:set', params: { t: 7 } }, deep(300),
    ];
    for (let i = 0; i < 5; i++) for (const m of junk) postMessage(m, '*');
    // Objects whose getters throw: reading them must not escape the page's handler.
    const evil = { get type() { throw new Error('boom'); } };
    try { postMessage(evil, '*'); } catch { /* not cloneable: the browser refuses it itself */ }
  });
  await settle(page);
  await page.waitForTimeout(300);
  assert.deepEqual(await state(), before, 'no value changed');
  assert.equal(page.url(), url, 'the link did not change');
  assert.deepEqual(page.problems, []);
});

test('actions asked for before burn or the weights are ready run once they are', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?dsteps=2&steps=20&rsteps=5`, { height: 4000 });
  // At once, as a host page would on its frame's first height message.
  await page.evaluate(() => {
    postMessage({ type: 'diffusion-playground:action', action: 'sample', panel: 'digits' }, '*');
    postMessage({ type: 'diffusion-playground:action', action: 'train' }, '*');
  });
  await page.waitForFunction(() => document.querySelector('#digits-status').dataset.state === 'done', null, { timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector('#train-status').dataset.state === 'sampled', null, { timeout: 120_000 });
  assert.match(await page.locator('#digits-status').textContent(), /16 digits in 2 steps/);
  assert.match(await page.locator('#train-status').textContent(), /Trained 20 steps/);
  assert.deepEqual(page.problems, []);
});
