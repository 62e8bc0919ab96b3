// The page on the CPU fallback (no WebGPU flag): it loads cleanly, every control redraws its
// panels, the posterior panel answers clicks, and URLs restore and sanitise the view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servePageAndBrowser, openPage, waitForBackend, settle, canvasStats, dragSlider, screenshot, COLORS, mathText, link } from './harness.mjs';

const ctx = servePageAndBrowser();

test('loads without console errors, draws every panel and falls back to the CPU', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
  const backend = await waitForBackend(page);
  assert.equal(backend.backend, 'CPU', backend.label);
  assert.match(backend.label, /CPU \(flex\).*WebGPU/);
  assert.equal(backend.check, 'ok', backend.checkText);
  for (const id of ['schedule-canvas', 'forward-canvas', 'posterior-canvas']) {
    const s = await canvasStats(page, id);
    assert.ok(s.ink > 0.02, `${id} looks blank (${(s.ink * 100).toFixed(1)} % ink)`);
  }
  assert.match(await mathText(page, '#forward-formula'), /α¯150=0\.7\d+/);
  await screenshot(page, 'cpu-default');
  assert.deepEqual(page.problems, []);
});

test('canvases are drawn at device resolution on a high-DPI screen', async () => {
  const page = await openPage(ctx.browser, ctx.server.url, { scale: 2 });
  await settle(page);
  const s = await canvasStats(page, 'forward-canvas');
  assert.equal(s.width, s.cssWidth * 2);
  assert.equal(s.height, s.cssHeight * 2);
  await screenshot(page, 'hidpi');
  assert.deepEqual(page.problems, []);
});

test('dragging t moves the forward panel, its formula and the URL', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
  await settle(page);
  const before = await canvasStats(page, 'forward-canvas');
  await dragSlider(page, 't', 900);
  const t = Number(await page.locator('#t-out').textContent());
  assert.ok(t > 700, `t after the drag: ${t}`);
  const after = await canvasStats(page, 'forward-canvas');
  assert.notEqual(after.hash, before.hash, 'the forward canvas did not change');
  assert.match((await link(page)).href, new RegExp(`[?&]t=${t}`));
  assert.match(await mathText(page, '#forward-formula'), new RegExp(`α¯${t}=`));
  await screenshot(page, 'cpu-t-dragged');
  // And back to the data: at t = 0 x_t is x_0.
  await dragSlider(page, 't', 0);
  assert.equal(await page.locator('#t-out').textContent(), '0');
  assert.match(await mathText(page, '#forward-formula'), /=1\.000·x0\+0·ε/);
  assert.deepEqual(page.problems, []);
});

test('a click in the posterior panel moves x_t and draws its targets', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
  await settle(page);
  const before = await canvasStats(page, 'posterior-canvas', COLORS);
  assert.ok(before.counts.target > 20, 'the true target is drawn in magenta');
  const box = await page.locator('#posterior-canvas').boundingBox();
  await page.mouse.click(box.x + box.width * 0.7, box.y + box.height * 0.3);
  await settle(page);
  const after = await canvasStats(page, 'posterior-canvas', COLORS);
  assert.notEqual(after.hash, before.hash);
  assert.ok(after.counts.target > 20, 'the true target is drawn in magenta');
  assert.ok(after.counts.weight > 20, 'weighted data points are drawn in orange');
  const url = await link(page);
  const x = Number(url.searchParams.get('x'));
  const y = Number(url.searchParams.get('y'));
  assert.ok(x > 0.5 && y > 0.5, `x_t = (${x}, ${y}) should be up and to the right`);
  assert.match(await mathText(page, '#posterior-formula'), /μ\*\(xt\)=.*atxt=\(/);
  await screenshot(page, 'cpu-posterior-click');
  assert.deepEqual(page.problems, []);
});

test('a URL with parameters restores them', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?kind=sigmoid&T=40&b1=0.00001&bT=0.3&t=12&seed=7&x=0.5&y=-0.25`);
  await settle(page);
  const state = await page.evaluate(() => ({
    kind: document.querySelector('#kind').value,
    T: document.querySelector('#T-out').textContent,
    t: document.querySelector('#t-out').textContent,
    b1: document.querySelector('#b1-out').textContent,
    bT: document.querySelector('#bT-out').textContent,
    seed: document.querySelector('#seed').value,
    notices: document.querySelector('#notices').hidden,
  }));
  assert.deepEqual(state, { kind: 'sigmoid', T: '40', t: '12', b1: '1.0e-5', bT: '0.3', seed: '7', notices: true });
  assert.match(await mathText(page, '#posterior-formula'), /atxt=\(0\.5000,−0\.2500\)/);
  // Seed 004's schedule keeps a little signal at T: the page says so.
  assert.ok(await page.locator('#forward-warning').isHidden(), 'alpha_bar_T = 0.0064 is close enough to noise');
  assert.deepEqual(page.problems, []);
});

test('bad URL values are clamped or reset, said on the page, and break nothing', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?T=abc&t=99999&b1=0.5&bT=0.001&kind=quadratic&x=NaN`);
  await settle(page);
  const notices = await page.locator('#notices').textContent();
  for (const key of ['T', 't', 'b1', 'kind', 'x']) assert.match(notices, new RegExp(`${key}:`), notices);
  assert.equal(await page.locator('#T-out').textContent(), '1000');
  assert.equal(await page.locator('#t-out').textContent(), '1000');
  assert.equal(await page.locator('#kind').inputValue(), 'linear');
  const s = await canvasStats(page, 'forward-canvas');
  assert.ok(s.ink > 0.02);
  await screenshot(page, 'bad-url');
  assert.deepEqual(page.problems, []);
});

test('a chain that does not end in noise is flagged', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?T=50&bT=0.01`);
  await settle(page);
  assert.ok(await page.locator('#forward-warning').isVisible());
  assert.match(await page.locator('#forward-warning').textContent(), /not pure noise/);
  assert.deepEqual(page.problems, []);
});

test('?panel=posterior shows that panel alone, for embedding', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?panel=posterior`, { width: 600, height: 800 });
  await settle(page);
  assert.ok(await page.locator('#panel-posterior').isVisible());
  assert.ok(await page.locator('#panel-forward').isHidden());
  assert.ok(await page.locator('#panel-schedule').isHidden());
  assert.ok(await page.locator('#panel-train').isHidden());
  const s = await canvasStats(page, 'posterior-canvas', COLORS);
  assert.ok(s.counts.target > 20);
  await screenshot(page, 'embed-posterior');
  assert.deepEqual(page.problems, []);
});

test('every schedule kind and beta slider redraws the schedule chart', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
  await settle(page);
  let last = (await canvasStats(page, 'schedule-canvas')).hash;
  for (const kind of ['cosine', 'sigmoid', 'linear']) {
    await page.selectOption('#kind', kind);
    await settle(page);
    const now = (await canvasStats(page, 'schedule-canvas')).hash;
    assert.notEqual(now, last, `choosing ${kind} changed nothing`);
    last = now;
    assert.equal(await page.locator('#b1').isDisabled(), kind === 'cosine');
  }
  await dragSlider(page, 'bT', -1);
  assert.notEqual((await canvasStats(page, 'schedule-canvas')).hash, last);
  assert.equal(await page.locator('#bT-out').textContent(), '0.1');
  // beta_1 dragged above beta_T pulls beta_T along: the schedule stays valid.
  await dragSlider(page, 'b1', -1);
  const b1 = Number(await page.locator('#b1-out').textContent());
  const bT = Number(await page.locator('#bT-out').textContent());
  assert.ok(b1 <= bT, `beta_1 = ${b1} > beta_T = ${bT}`);
  assert.deepEqual(page.problems, []);
});

test('panels off screen are drawn when they scroll into view', async () => {
  const page = await openPage(ctx.browser, ctx.server.url, { height: 500 });
  await waitForBackend(page);
  await page.locator('#t').fill('40');
  await page.locator('#t').dispatchEvent('input');
  await settle(page);
  await page.locator('#panel-score').scrollIntoViewIfNeeded();
  await settle(page);
  await settle(page);
  const score = await canvasStats(page, 'score-canvas', { exact: [70, 70, 70] });
  assert.ok(score.counts.exact > 100, `the exact score arrows are drawn (${score.counts.exact} px)`);
  assert.match(await mathText(page, '#score-formula'), /∇logq\(xt\)=.*\/0\.0\d+/);
  assert.deepEqual(page.problems, []);
});

test('formulas updated in place while dragging read exactly as formulas written afresh', async () => {
  // While t moves only the formulas' numbers change, so the page rewrites their text nodes
  // rather than the markup; after a drag across the schedule (t = 0 writes different markup)
  // every formula must be the one a fresh page at the same t writes.
  const ids = ['schedule-formula', 'forward-formula', 'posterior-formula', 'score-formula'];
  const read = (page) => page.evaluate((ids) => ids.map((id) => document.getElementById(id).innerHTML), ids);
  const page = await openPage(ctx.browser, ctx.server.url, { width: 1440, height: 4200 });
  await settle(page);
  for (const t of [700, 0, 333]) await dragSlider(page, 't', t);
  await settle(page);
  const t = await page.evaluate(() => document.getElementById('t').value);
  const fresh = await openPage(ctx.browser, `${ctx.server.url}?t=${t}`, { width: 1440, height: 4200 });
  await settle(fresh);
  const [dragged, written] = [await read(page), await read(fresh)];
  assert.ok(written.every((html) => html.includes('<math')), 'every panel shows a formula');
  assert.deepEqual(dragged, written);
  assert.deepEqual(page.problems, []);
});

test('the idle warm-up of the drawing code ends and leaves every chart as it was', async () => {
  // After the first render the page draws each chart at other steps on canvases outside the
  // page (src/web/warm.rs). Once it has ended, the page must show exactly what a redraw at the
  // same t shows: nothing of the warm-up may reach the page's canvases or text.
  const page = await openPage(ctx.browser, ctx.server.url, { width: 1440, height: 4200 });
  await page.waitForFunction(() => window.wasmBindings.warm_up_left() === 0, null, { timeout: 60_000 });
  const ids = ['schedule-canvas', 'forward-canvas', 'posterior-canvas', 'score-canvas', 'digits-forward'];
  const look = async () => ({
    canvases: await Promise.all(ids.map((id) => canvasStats(page, id).then((s) => s.hash))),
    text: await page.evaluate(() => ['schedule-formula', 'forward-formula', 'posterior-formula', 'score-formula']
      .map((id) => document.getElementById(id).innerHTML)),
  });
  const warmed = await look();
  const t = await page.evaluate(() => document.getElementById('t').value);
  assert.equal(t, '150');
  await dragSlider(page, 't', 600);
  await dragSlider(page, 't', 150);
  await settle(page);
  assert.deepEqual(await look(), warmed);
  assert.deepEqual(page.problems, []);
});
