// The page in a classroom: projector mode and the dark theme change what is drawn, every
// shortcut does its thing and nothing while the reader types, the guided walk sets the state it
// promises (also from a `tour=N` link), full screen is entered and left, formulas are MathML
// with the current numbers, the charts are described in words, reduced motion stops the chain's
// animation, the ELBO panel's prior term is its closed form and its total is the command
// line's, axe-core finds nothing, the page works offline after one visit, and a phone's
// 390-px screen has no horizontal scroll.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { servePageAndBrowser, openPage, waitForBackend, canvasStats, dragSlider, screenshot, settle, mathText, ROOT, link } from './harness.mjs';

const ctx = servePageAndBrowser();
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

async function ready(page) {
  await page.waitForSelector('body[data-ready=true]');
  await settle(page);
}

/** The share of a canvas's pixels that are strong ink (lines, marks, text; not the grid). */
const strongInk = (page, id) => page.evaluate((id) => {
  const c = document.getElementById(id);
  const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (Math.min(data[i], data[i + 1], data[i + 2]) < 150) n++;
  return n / (data.length / 4);
}, id);

const tValue = (page) => page.evaluate(() => +document.getElementById('t').value);
const query = async (page) => (await link(page)).searchParams;

test('projector mode: a link, a button and a key turn it on; text and lines grow', async () => {
  const plain = await openPage(ctx.browser, ctx.server.url, { width: 1024 });
  await ready(plain);
  const before = await strongInk(plain, 'schedule-canvas');
  const rootSize = await plain.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  assert.equal(await plain.evaluate(() => document.documentElement.dataset.theme), 'light');

  await plain.click('#projector');
  await settle(plain);
  assert.equal(await plain.getAttribute('#projector', 'aria-pressed'), 'true');
  assert.equal((await query(plain)).get('projector'), '1');
  assert.equal(await plain.evaluate(() => document.documentElement.dataset.theme), 'projector');
  const bigger = await plain.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  assert.ok(bigger >= 20 && bigger > rootSize, `page text ${rootSize} -> ${bigger} px`);
  const after = await strongInk(plain, 'schedule-canvas');
  // Twice the line width and twice the text: far more ink for the same chart.
  assert.ok(after > 1.6 * before, `schedule chart's strong ink ${before.toFixed(4)} -> ${after.toFixed(4)}`);
  await screenshot(plain, 'projector');
  await plain.keyboard.press('p');
  await settle(plain);
  assert.equal(await plain.evaluate(() => document.documentElement.dataset.theme), 'light');
  assert.equal((await query(plain)).get('projector'), null);
  assert.deepEqual(plain.problems, []);
  await plain.close();

  const linked = await openPage(ctx.browser, `${ctx.server.url}?projector=1&t=400`, { width: 1024 });
  await ready(linked);
  assert.equal(await linked.evaluate(() => document.documentElement.dataset.theme), 'projector');
  assert.equal(await tValue(linked), 400);
  await linked.close();
});

test('the dark theme follows the system, on the page and in the charts', async () => {
  const page = await openPage(ctx.browser, ctx.server.url, { width: 1280 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.reload();
  await ready(page);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  const corner = await page.evaluate(() => {
    const c = document.getElementById('forward-canvas');
    return [...c.getContext('2d').getImageData(2, 2, 1, 1).data.slice(0, 3)];
  });
  assert.ok(corner.every((v) => v < 60), `the chart's paper is dark: ${corner}`);
  const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  assert.match(background, /rgb\((\d|[1-3]\d), /, background);
  await screenshot(page, 'dark-theme');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('shortcuts: arrows move t, keys act, help opens and closes, and fields keep their keys', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
  await ready(page);
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Shift+ArrowRight');
  await settle(page);
  assert.equal(await tValue(page), 161);
  await page.keyboard.press('ArrowLeft');
  await settle(page);
  assert.equal(await tValue(page), 160);
  assert.equal((await query(page)).get('t'), '160');
  await page.waitForFunction(() => document.getElementById('forward-desc').textContent.startsWith('t = 160: '));

  await page.keyboard.press('?');
  assert.equal(await page.evaluate(() => document.getElementById('help-dialog').open), true);
  assert.match(await page.locator('#help-dialog').textContent(), /projector mode/);
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.getElementById('help-dialog').open), false);

  // Typing in a field: no shortcut fires.
  await page.focus('#seed');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('p');
  await page.keyboard.press('r');
  await settle(page);
  assert.equal(await tValue(page), 160);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');

  // The posterior chart takes arrow keys for its point.
  await page.focus('#posterior-canvas');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Shift+ArrowLeft');
  await settle(page);
  assert.equal((await query(page)).get('y'), '-0.500');
  assert.equal((await query(page)).get('x'), '0.100');
  assert.equal(await tValue(page), 160, 'the arrows moved the point, not t');

  // Space trains, space again pauses, `.` steps once, `r` resets.
  await page.locator('#panel-train h2').scrollIntoViewIfNeeded();
  await page.locator('#panel-train h2').click();
  await waitForBackend(page);
  await page.keyboard.press(' ');
  await page.waitForFunction(() => document.querySelector('#train-status').dataset.state === 'training', null, { timeout: 60_000 });
  await page.keyboard.press(' ');
  await page.waitForFunction(() => document.querySelector('#train-status').dataset.state === 'paused', null, { timeout: 60_000 });
  await page.waitForTimeout(500); // the slice in flight when Pause was pressed comes back
  const steps = await page.evaluate(() => window.wasmBindings.training_losses().length);
  await page.keyboard.press('.');
  await page.waitForFunction((n) => window.wasmBindings.training_losses().length === n + 1, steps, { timeout: 30_000 });
  await page.keyboard.press('r');
  await page.waitForFunction(() => window.wasmBindings.training_losses().length === 0, null, { timeout: 30_000 });
  assert.match(await page.locator('#train-status').textContent(), /Reset/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('full screen shows one panel with the controls, sized to the screen, and leaves again', async () => {
  const page = await openPage(ctx.browser, ctx.server.url, { width: 1280, height: 900 });
  await ready(page);
  const small = await canvasStats(page, 'posterior-canvas');
  await page.click('#panel-posterior button.fullscreen');
  await page.waitForFunction(() => !!document.fullscreenElement);
  await settle(page);
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains('solo')));
  assert.equal(await page.locator('#panel-forward').isVisible(), false);
  assert.equal(await page.locator('#controls').isVisible(), true);
  const large = await canvasStats(page, 'posterior-canvas');
  assert.ok(large.cssHeight > 1.1 * small.cssHeight && large.cssHeight >= 0.6 * 900, `the chart grew: ${small.cssHeight} -> ${large.cssHeight} px`);
  assert.equal(large.width, large.cssWidth, 'drawn at the size shown (crisp)');
  assert.match(await page.locator('#panel-posterior button.fullscreen').textContent(), /Leave/);
  await page.keyboard.press('f');
  await page.waitForFunction(() => !document.fullscreenElement);
  await settle(page);
  assert.equal(await page.locator('#panel-forward').isVisible(), true);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('full screen works inside an iframe that allows it, and says so where it is not allowed', async () => {
  const context = await ctx.browser.newContext({ viewport: { width: 1200, height: 900 }, serviceWorkers: 'block' });
  const host = await context.newPage();
  const problems = [];
  host.on('pageerror', (e) => problems.push(e.message));
  await host.setContent(`<iframe id="allowed" src="${ctx.server.url}?panel=forward" width="800" height="700" allowfullscreen></iframe>
    <iframe id="denied" src="${ctx.server.url}?panel=schedule" width="800" height="500"></iframe>`);
  const frame = async (id) => (await host.$(`#${id}`)).contentFrame();
  const allowed = await frame('allowed');
  const denied = await frame('denied');
  for (const f of [allowed, denied]) await f.waitForSelector('body[data-ready=true]');
  await allowed.click('#panel-forward button.fullscreen');
  await allowed.waitForFunction(() => !!document.fullscreenElement);
  assert.ok(await allowed.evaluate(() => document.documentElement.classList.contains('solo')));
  await allowed.click('#panel-forward button.fullscreen');
  await allowed.waitForFunction(() => !document.fullscreenElement);
  await denied.click('#panel-schedule button.fullscreen');
  await denied.waitForFunction(() => !document.getElementById('notices').hidden);
  assert.match(await denied.locator('#notices').textContent(), /not allowed here/);
  assert.equal(await denied.evaluate(() => document.documentElement.classList.contains('solo')), false);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the guided walk sets each stop\'s state, keeps it on leaving, and opens from tour=N', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?tour=3`, { width: 1280, height: 900 });
  await ready(page);
  assert.equal(await page.locator('#tour').isVisible(), true);
  assert.equal(await page.locator('#tour-count').textContent(), 'Step 3 of 9');
  assert.equal(await tValue(page), 1000, 'x_T is shown at t = T');
  assert.ok(await page.evaluate(() => document.getElementById('forward-canvas').classList.contains('tour-highlight')));
  await page.click('#tour-next');
  await settle(page);
  assert.equal((await query(page)).get('tour'), '4');
  assert.equal(await tValue(page), 100);
  assert.match(await page.locator('#tour-title').textContent(), /true target/);
  assert.ok(await page.evaluate(() => document.getElementById('posterior-canvas').classList.contains('tour-highlight')));
  // The card moves to the other side rather than cover the chart it points at.
  const overlap = await page.evaluate(() => {
    const a = document.getElementById('tour').getBoundingClientRect();
    const b = document.getElementById('posterior-canvas').getBoundingClientRect();
    return Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
  });
  assert.equal(overlap, 0, 'the walk\'s card covers the outlined chart');
  await screenshot(page, 'tour-step-4');
  await page.keyboard.press('b');
  await settle(page);
  assert.equal(await page.locator('#tour-count').textContent(), 'Step 3 of 9');
  await page.keyboard.press('n');
  await page.keyboard.press('n');
  await settle(page);
  assert.equal(await page.locator('#tour-count').textContent(), 'Step 5 of 9');
  assert.equal(await page.locator('#tour-try').textContent(), 'Train the model');
  await page.keyboard.press('Escape');
  await settle(page);
  assert.equal(await page.locator('#tour').isVisible(), false);
  assert.equal((await query(page)).get('tour'), null);
  assert.equal(await tValue(page), 100, 'leaving keeps the state the walk reached');
  const bad = await openPage(ctx.browser, `${ctx.server.url}?tour=99`);
  await ready(bad);
  assert.equal(await bad.locator('#tour-count').textContent(), 'Step 9 of 9');
  assert.match(await bad.locator('#notices').textContent(), /steps 1 to 9/);
  assert.deepEqual([...page.problems, ...bad.problems], []);
  await bad.close();
  await page.close();
});

test('formulas are MathML with the numbers of the moment; charts have names and descriptions', async () => {
  const page = await openPage(ctx.browser, ctx.server.url);
  await ready(page);
  for (const id of ['schedule-formula', 'forward-formula', 'posterior-formula', 'score-formula']) {
    assert.ok(await page.locator(`#${id} math`).count() >= 1, `${id} has MathML`);
  }
  assert.match(await mathText(page, '#schedule-formula'), /β150=0\.003068/);
  await dragSlider(page, 't', 600);
  const t = await tValue(page);
  assert.match(await mathText(page, '#schedule-formula'), new RegExp(`β${t}=`));
  // MathML is rendered as mathematics (a math box of its own), not as plain text.
  const display = await page.evaluate(() => getComputedStyle(document.querySelector('#forward-formula math')).display);
  assert.match(display, /math|inline/);
  for (const id of ['schedule-canvas', 'forward-canvas', 'posterior-canvas', 'score-canvas', 'elbo-canvas']) {
    const named = await page.evaluate((id) => {
      const c = document.getElementById(id);
      const desc = c.getAttribute('aria-describedby');
      return { role: c.getAttribute('role'), name: c.getAttribute('aria-label'), live: desc && document.getElementById(desc).getAttribute('aria-live') };
    }, id);
    assert.equal(named.role, 'img', id);
    assert.ok(named.name.length > 10, id);
    assert.equal(named.live, 'polite', id);
  }
  // Descriptions follow the slider (throttled, so wait for the last one).
  await page.waitForFunction((t) => document.getElementById('forward-desc').textContent.startsWith(`t = ${t}:`), t);
  assert.match(await page.locator('#forward-desc').textContent(), /% of the signal variance remains/);
  assert.match(await page.locator('#schedule-desc').textContent(), new RegExp(`^t = ${t} of 1000, linear schedule`));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('reduced motion: the chain after training is not animated, it appears at its end', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?steps=300`);
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.reload();
  await ready(page);
  await waitForBackend(page);
  await page.evaluate(() => {
    window.statuses = [];
    new MutationObserver(() => window.statuses.push(document.getElementById('train-status').textContent))
      .observe(document.getElementById('train-status'), { childList: true, characterData: true, subtree: true });
  });
  await page.click('#train');
  await page.waitForFunction(() => document.querySelector('#train-status').dataset.state === 'sampled', null, { timeout: 120_000 });
  const frames = await page.evaluate(() => window.statuses.filter((s) => /Sampling: t = /.test(s)).length);
  assert.ok(frames <= 1, `${frames} animation frames of the chain were shown`);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the ELBO panel: its prior term is the closed form and its total is the command line\'s', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?steps=400`);
  await ready(page);
  await waitForBackend(page);
  await page.click('#train');
  await page.waitForFunction(() => window.wasmBindings.training_losses().length === 400, null, { timeout: 120_000 });
  await page.fill('#elbo-n', '200');
  await page.click('#elbo-compute');
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('elbo-status').dataset.state), null, { timeout: 120_000 });
  const bound = await page.evaluate(() => ({ ...document.getElementById('elbo-status').dataset }));
  assert.equal(bound.state, 'done', await page.locator('#elbo-status').textContent());
  assert.equal(bound.terms, '1000');
  assert.equal(bound.points, '200');

  // L_T in closed form from the page's own numbers: the data (forward CSV) and alpha_bar_T.
  const csv = async (panel) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#panel-${panel} [data-export=csv]`)]);
    return readFileSync(await download.path(), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  };
  const points = (await csv('forward')).slice(0, 200);
  const alphaBarT = (await csv('schedule')).at(-1)[2];
  let sum = 0;
  for (const row of points) {
    for (const x of row.slice(0, 2)) {
      const m = Math.sqrt(alphaBarT) * x;
      const v = 1 - alphaBarT;
      sum += 0.5 * (v + m * m - 1 - Math.log(v));
    }
  }
  const closed = sum / 400;
  assert.ok(Math.abs(+bound.prior - closed) <= 1e-6 * Math.max(closed, 1e-9) + 1e-12, `prior ${bound.prior} against ${closed}`);
  assert.match(await mathText(page, '#elbo-formula'), /−logp\(x0\)≤LT\+Σt≥2Lt−1\+L0=/);
  assert.equal(await page.locator('#elbo-history tbody tr').count(), 1);
  const chart = await canvasStats(page, 'elbo-canvas');
  assert.ok(chart.ink > 0.03, 'the terms are drawn');

  // The command line on the model the page exported: the same bound.
  const cli = join(ROOT, 'target/release/diffusion');
  if (existsSync(cli)) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#panel-train [data-export=model]')]);
    const file = join(mkdtempSync(join(tmpdir(), 'elbo-')), 'model.json');
    await download.saveAs(file);
    const out = JSON.parse(execFileSync(cli, ['swissroll', 'elbo', '--model', file, '--n', '200', '--seed', '0'], { encoding: 'utf8' }));
    assert.equal(out.units, 'nats/dim');
    assert.equal(out.terms.length, 1000);
    assert.ok(Math.abs(out.prior - +bound.prior) < 1e-12, `prior: CLI ${out.prior}, page ${bound.prior}`);
    assert.ok(Math.abs(out.total - +bound.total) < 1e-4 * Math.max(1, Math.abs(out.total)), `total: CLI ${out.total}, page ${bound.total}`);
  } else {
    console.log('# target/release/diffusion is not built: the CLI comparison is skipped');
  }
  await page.locator('#elbo').scrollIntoViewIfNeeded();
  await page.locator('#elbo').screenshot({ path: join(ROOT, 'tests/browser/screenshots/elbo.png') });
  assert.deepEqual(page.problems, []);
  await page.close();
});

async function axe(page, label) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const found = result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
  assert.deepEqual(found, [], `${label}: axe-core violations`);
}

test('axe-core finds no violation: the full page, projector mode, the dark theme, the walk', async () => {
  for (const [label, q, dark] of [['full page', '', false], ['projector', '?projector=1', false], ['dark', '', true], ['walk', '?tour=2', false]]) {
    const page = await openPage(ctx.browser, ctx.server.url + q, { width: 1440, height: 4200, bypassCSP: true });
    if (dark) {
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.reload();
    }
    await ready(page);
    await waitForBackend(page);
    await axe(page, label);
    await page.close();
  }
});

test('a phone: 390 px wide, no horizontal scroll, sliders and the chart take touch', async () => {
  const context = await ctx.browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  await page.goto(ctx.server.url);
  await ready(page);
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1], `page ${widths[0]} px wide in a ${widths[1]} px screen`);
  const box = await page.locator('#posterior-canvas').boundingBox();
  assert.ok(box.width <= 390 && box.width > 300, `posterior chart ${box.width} px`);
  await page.locator('#posterior-canvas').scrollIntoViewIfNeeded();
  const before = (await query(page)).get('x');
  const b = await page.locator('#posterior-canvas').boundingBox();
  await page.touchscreen.tap(b.x + b.width * 0.7, b.y + b.height * 0.3);
  await settle(page);
  assert.notEqual((await query(page)).get('x'), before, 'a tap places the point');
  await page.screenshot({ path: join(ROOT, 'tests/browser/screenshots/phone.png') });
  await context.close();
});

test('after one visit the page works offline: charts, burn in its worker, and the digits', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?t=300`, { serviceWorkers: 'allow' });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
  await waitForBackend(page);
  // The digits' weights too: the panel fetches them when it is in view.
  await page.locator('#panel-digits').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelector('#digits-status').dataset.state === 'ready', null, { timeout: 60_000 });
  await page.context().setOffline(true);
  await page.goto(`${ctx.server.url}?t=500`);
  await page.waitForSelector('body[data-ready=true]');
  assert.equal(await tValue(page), 500);
  const chart = await canvasStats(page, 'forward-canvas');
  assert.ok(chart.ink > 0.02, 'the forward chart draws offline');
  const backend = await waitForBackend(page);
  assert.equal(backend.check, 'ok', `burn starts offline: ${backend.checkText}`);
  await page.locator('#panel-digits').scrollIntoViewIfNeeded();
  await page.click('#digits-sample');
  await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('#digits-status').dataset.state), null, { timeout: 120_000 });
  assert.equal(await page.evaluate(() => document.querySelector('#digits-status').dataset.state), 'done', await page.locator('#digits-status').textContent());
  await page.context().setOffline(false);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the QR code holds the current link', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?t=321&kind=cosine`);
  await ready(page);
  await page.click('#qr-open');
  assert.equal(await page.evaluate(() => document.getElementById('qr-dialog').open), true);
  assert.equal(await page.locator('#qr-link').textContent(), (await link(page)).href);
  const svg = await page.locator('#qr-code svg').boundingBox();
  assert.ok(svg && svg.width >= 300, 'a code large enough to scan from a seat');
  const modules = await page.evaluate(() => document.querySelector('#qr-code svg path[fill="#000000"], #qr-code svg path:last-child').getAttribute('d').length);
  assert.ok(modules > 200, 'the code has modules');
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.getElementById('qr-dialog').open), false);
  assert.deepEqual(page.problems, []);
  await page.close();
});
