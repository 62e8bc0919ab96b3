// The MNIST panel: the shipped U-Net loads from assets/mnist/, samples a grid of digits step by
// step, and real digits follow the t slider; a missing or damaged weights file is reported in
// this panel while every other panel keeps working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { servePageAndBrowser, openPage, waitForBackend, canvasStats, settle, screenshot, DIST } from './harness.mjs';

const ctx = servePageAndBrowser();

function recordDigitStatuses() {
  window.digitStatuses = [];
  new MutationObserver(() => {
    const el = document.querySelector('#digits-status');
    if (el) window.digitStatuses.push(el.textContent);
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

async function waitForDigits(page, states, timeout = 120_000) {
  await page.waitForFunction(
    (states) => states.includes(document.querySelector('#digits-status').dataset.state),
    states,
    { timeout },
  );
  return page.locator('#digits-status').textContent();
}

test('the U-Net loads and samples digits step by step, and real digits follow t', async () => {
  // Every status the panel shows while loading, to see the download's progress.
  const page = await openPage(ctx.browser, ctx.server.url, { init: recordDigitStatuses });
  await waitForBackend(page);
  assert.match(await waitForDigits(page, ['ready', 'error']), /U-Net loaded/);
  const statuses = await page.evaluate(() => window.digitStatuses);
  assert.ok(
    statuses.some((s) => /Loading the U-Net's weights… \d+ of \d+ KB/.test(s)),
    `the download's progress is shown: ${JSON.stringify([...new Set(statuses)])}`,
  );
  await page.locator('#panel-digits').scrollIntoViewIfNeeded();
  await settle(page);
  const forward = await canvasStats(page, 'digits-forward');
  assert.ok(forward.ink > 0.05, 'the real digits are drawn');
  await page.locator('#t').fill('600');
  await page.locator('#t').dispatchEvent('input');
  await settle(page);
  assert.notEqual((await canvasStats(page, 'digits-forward')).hash, forward.hash, 'the forward row follows t');

  await page.fill('#digits-steps', '6');
  await page.click('#digits-step');
  await waitForDigits(page, ['paused', 'done', 'error']);
  const first = await canvasStats(page, 'digits-canvas');
  assert.match(await page.locator('#digits-status').textContent(), /Step 1\/6/);
  await page.click('#digits-sample');
  const status = await waitForDigits(page, ['done', 'error']);
  assert.match(status, /16 digits in 6 steps on CPU: [\d.]+ s \([\d.]+ steps\/s\)/);
  const last = await canvasStats(page, 'digits-canvas');
  assert.notEqual(last.hash, first.hash, 'the grid changes as the chain runs');
  assert.ok(last.ink > 0.05 && last.ink < 0.9, `ink ${last.ink}`);
  await screenshot(page, 'digits');
  assert.deepEqual(page.problems, []);
});

test('a digit drawn on the pad is noised to t and denoised by the U-Net (SDEdit)', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?panel=digits`);
  await waitForBackend(page);
  await waitForDigits(page, ['ready', 'error']);
  const blank = await canvasStats(page, 'digits-draw');
  const box = await page.locator('#digits-draw').boundingBox();
  // A "1": one vertical stroke down the middle.
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.52, box.y + box.height * 0.8, { steps: 25 });
  await page.mouse.up();
  const drawn = await canvasStats(page, 'digits-draw');
  assert.ok(drawn.ink > blank.ink + 0.03, `the stroke is drawn (${blank.ink} -> ${drawn.ink})`);
  await page.locator('#digits-draw-t').fill('300');
  await page.locator('#digits-draw-t').dispatchEvent('input');
  assert.equal(await page.locator('#digits-draw-t-out').textContent(), '300');
  await page.fill('#digits-steps', '5');
  await page.click('#digits-sdedit');
  assert.match(await waitForDigits(page, ['done', 'error']), /1 digit in 5 steps on CPU/);
  // Its own view, big enough to read: the drawing, the drawing noised to t, the result.
  const size = async () => page.locator('#digits-sdedit-result').evaluate((c) => [c.width, c.height, c.clientWidth]);
  const [width, height, shown] = await size();
  assert.equal(height, 28 * 6 + 2, 'six screen pixels a digit pixel');
  assert.equal(width, 3 * (28 * 6 + 2), 'three pictures side by side');
  assert.ok(shown >= 3 * 160, `shown at ${shown} CSS px`);
  const alone = await canvasStats(page, 'digits-sdedit-result');
  assert.ok(alone.ink > 0.03 && alone.ink < 0.6, `the drawing, its noised copy and the result are shown (ink ${alone.ink})`);
  assert.match(await page.locator('#digits-sdedit-caption').textContent(), /your drawing · noised to t = 300 · denoised, no label\. Choose a digit/);
  // With a digit chosen, a second result is pulled toward it.
  await page.selectOption('#digits-label', '7');
  await page.click('#digits-sdedit');
  assert.match(await waitForDigits(page, ['done', 'error']), /2 digits in 5 steps on CPU/);
  assert.equal((await size())[0], 4 * (28 * 6 + 2), 'four pictures side by side');
  assert.equal(await page.locator('#digits-sdedit-caption').textContent(), 'your drawing · noised to t = 300 · denoised, no label · denoised as a 7');
  await screenshot(page, 'digits-sdedit');
  await page.click('#digits-draw-clear');
  assert.equal((await canvasStats(page, 'digits-draw')).hash, blank.hash, 'Clear wipes the pad');
  assert.deepEqual(page.problems, []);
});

test('the measured trade-offs of guidance and steps are charted, with the current settings marked', async () => {
  const sweep = JSON.parse(await readFile(join(DIST, 'assets/mnist/sweep.json'), 'utf8'));
  const page = await openPage(ctx.browser, `${ctx.server.url}?panel=digits`);
  const desc = () => page.locator('#digits-tradeoff-desc').textContent();
  await page.waitForFunction(() => /Measured on/.test(document.querySelector('#digits-tradeoff-desc').textContent));
  const text = await desc();
  assert.match(text, new RegExp(`Measured on ${sweep.samples} digits`));
  assert.match(text, new RegExp(`The defaults, chosen by this measure: w = ${sweep.chosen.guidance}, ${sweep.chosen.steps} steps`));
  const before = await canvasStats(page, 'digits-tradeoff');
  assert.ok(before.ink > 0.02, `the chart is drawn (ink ${before.ink})`);
  // Moving w moves its mark (and the words); so does the number of steps.
  await page.fill('#digits-guidance', '4');
  await page.locator('#digits-guidance').dispatchEvent('change');
  await page.waitForFunction(() => /current w = 4/.test(document.querySelector('#digits-tradeoff-desc').textContent));
  const moved = await canvasStats(page, 'digits-tradeoff');
  assert.notEqual(moved.hash, before.hash, 'the guidance mark moved');
  await page.fill('#digits-steps', '5');
  await page.locator('#digits-steps').dispatchEvent('change');
  await settle(page);
  assert.notEqual((await canvasStats(page, 'digits-tradeoff')).hash, moved.hash, 'the steps mark moved');
  await page.locator('#digits-tradeoff').scrollIntoViewIfNeeded();
  await screenshot(page, 'digits-tradeoff');
  assert.deepEqual(page.problems, []);
});

test("without the sweep's record the chart says so and the panel still samples", async () => {
  const page = await ctx.browser.newPage({ serviceWorkers: 'block' });
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push(err.message));
  await page.route('**/assets/mnist/sweep.json', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.goto(`${ctx.server.url}?panel=digits`);
  await page.waitForFunction(() => /could not be loaded/.test(document.querySelector('#digits-tradeoff-desc').textContent));
  await waitForBackend(page);
  assert.match(await waitForDigits(page, ['ready', 'error']), /U-Net loaded/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('?panel=digits embeds the digits panel alone', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?panel=digits`);
  await waitForBackend(page);
  assert.ok(await page.locator('#panel-digits').isVisible());
  assert.ok(!(await page.locator('#panel-train').isVisible()));
  assert.ok(!(await page.locator('#notices').isVisible()), 'no correction notice for a valid panel name');
  assert.match(await waitForDigits(page, ['ready', 'error']), /U-Net loaded/);
  assert.deepEqual(page.problems, []);
});

test("the worker's U-Net computes what PyTorch computed on the same weights", async () => {
  // The parity fixture (written by the trainer): two images, their timesteps and labels, and
  // PyTorch's output. The page's worker runs its own WebAssembly kernels (the direct 3x3
  // convolution, the fused group norm, SiLU), which the native parity test never reaches.
  const bytes = await readFile(join(DIST, 'assets/mnist/parity.safetensors'));
  const size = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + size).toString());
  const tensor = (name, Kind) => {
    const [start, end] = header[name].data_offsets;
    const data = bytes.subarray(8 + size + start, 8 + size + end);
    return [...new Kind(data.buffer.slice(data.byteOffset, data.byteOffset + data.length))].map(Number);
  };
  const [x, t, labels, want] = [tensor('x', Float32Array), tensor('t', BigInt64Array),
    tensor('labels', BigInt64Array), tensor('output', Float32Array)];
  const page = await openPage(ctx.browser, `${ctx.server.url}?panel=digits&device=cpu`);
  await waitForBackend(page);
  assert.match(await waitForDigits(page, ['ready', 'error']), /U-Net loaded/);
  const got = await page.evaluate(({ x, t, labels }) =>
    window.wasmBindings.unet_forward(Float32Array.from(x), Uint32Array.from(t), Uint32Array.from(labels))
      .then((out) => [...out]), { x, t, labels });
  assert.equal(got.length, want.length);
  const worst = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
  assert.ok(worst < 1e-4, `the page's U-Net differs from PyTorch's by up to ${worst}`);
  assert.deepEqual(page.problems, []);
});

for (const [what, respond] of [
  ['missing', (route) => route.fulfill({ status: 404, body: 'not found' })],
  ['truncated', async (route) => route.fulfill({ body: (await readFile(join(DIST, 'assets/mnist/unet.safetensors'))).subarray(0, 5000) })],
  ['corrupt', (route) => route.fulfill({ body: Buffer.alloc(50_000, 7) })],
  // Valid safetensors, but of another network (the parity fixture: inputs and outputs).
  ['mismatched', async (route) => route.fulfill({ body: await readFile(join(DIST, 'assets/mnist/parity.safetensors')) })],
]) {
  test(`a ${what} weights file is reported in the digits panel and the rest of the page works`, async () => {
    const page = await ctx.browser.newPage({ serviceWorkers: 'block' });
    page.problems = [];
    page.on('pageerror', (err) => page.problems.push(err.message));
    await page.route('**/assets/mnist/unet.safetensors', respond);
    await page.goto(ctx.server.url);
    await page.waitForSelector('body[data-ready=true]');
    await waitForBackend(page);
    const status = await waitForDigits(page, ['ready', 'error']);
    assert.match(status, /could not be loaded: .*(missing|damaged|truncated|does not fit)/);
    assert.ok(!status.includes('\n') && status.length < 300, `one short sentence: ${status}`);
    assert.equal(await page.locator('#digits-status').getAttribute('data-state'), 'error');
    // The other panels still answer.
    const before = await canvasStats(page, 'forward-canvas');
    await page.locator('#t').fill('700');
    await page.locator('#t').dispatchEvent('input');
    await settle(page);
    assert.notEqual((await canvasStats(page, 'forward-canvas')).hash, before.hash);
    await page.fill('#train-steps', '20');
    await page.click('#train');
    await page.waitForFunction(() => document.querySelector('#train-status').dataset.state === 'sampled', null, { timeout: 60_000 });
    assert.deepEqual(page.problems, []);
    await page.close();
  });
}
