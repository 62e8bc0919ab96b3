// The page for a blog author: links that carry every control, hide/lock flags, the embed
// builder, the postMessage protocol between two origins, and every export button.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { servePageAndBrowser, openPage, waitForBackend, settle, screenshot, canvasStats, link } from './harness.mjs';

const ctx = servePageAndBrowser();

// Every control away from its default (keys as in src/params/table.rs).
const EVERYTHING = {
  data: 'moons', kind: 'sigmoid', T: '400', b1: '0.0002', bT: '0.05', t: '12', seed: '42',
  x: '0.125', y: '-1.500',
  lr: '0.004', steps: '700', hidden: '48', batch: '128', predict: 'x0', device: 'cpu',
  sampler: 'ddpm', rsteps: '50', eta: '0.5',
  digit: '7', w: '1.5', wfrom: '100', wto: '900', dsampler: 'ddpm', dsteps: '12', deta: '0.3',
  dseed: '9', sdt: '250',
};
// The element that shows each control, and how it shows it.
const ELEMENTS = {
  data: 'data', kind: 'kind', T: 'T', t: 't', seed: 'seed', lr: 'lr', steps: 'train-steps',
  hidden: 'hidden', batch: 'batch', predict: 'parameterization', device: 'train-device',
  sampler: 'sampler', rsteps: 'sample-steps', eta: 'eta', digit: 'digits-label',
  w: 'digits-guidance', wfrom: 'digits-guided-from', wto: 'digits-guided-to',
  dsampler: 'digits-sampler', dsteps: 'digits-steps', deta: 'digits-eta', dseed: 'digits-seed',
  sdt: 'digits-draw-t',
};

/** The state the page reports through its own message API (asked from inside the page). */
function askState(page, message = { type: 'diffusion-playground:get' }) {
  return page.evaluate((message) => new Promise((resolve) => {
    const listen = (e) => {
      if (e.data?.type === 'diffusion-playground:state') {
        window.removeEventListener('message', listen);
        resolve(e.data);
      }
    };
    window.addEventListener('message', listen);
    window.postMessage(message, '*');
  }), message);
}

test('a link with every control set restores each of them, and the page keeps the link', async () => {
  const query = new URLSearchParams(EVERYTHING).toString();
  const page = await openPage(ctx.browser, `${ctx.server.url}?${query}`);
  await settle(page);
  assert.equal(await page.locator('#notices').isHidden(), true, await page.locator('#notices').textContent());
  for (const [key, id] of Object.entries(ELEMENTS)) {
    const value = await page.locator(`#${id}`).inputValue();
    assert.equal(Number.isNaN(Number(value)) ? value : Number(value),
      Number.isNaN(Number(EVERYTHING[key])) ? EVERYTHING[key] : Number(EVERYTHING[key]), `${key} (#${id})`);
  }
  assert.equal(await page.locator('#b1-out').textContent(), '2.0e-4');
  assert.equal(await page.locator('#bT-out').textContent(), '0.05');
  const state = await askState(page);
  for (const [key, value] of Object.entries(EVERYTHING)) {
    assert.equal(String(state.params[key]), String(Number.isNaN(Number(value)) ? value : Number(value)), key);
  }
  // Moving one control rewrites the link with everything else still in it.
  await page.locator('#t').fill('20');
  await settle(page);
  const url = await link(page);
  for (const [key, value] of Object.entries({ ...EVERYTHING, t: '20' })) {
    assert.equal(url.searchParams.get(key), value, `${key} in ${url.search}`);
  }
  // A reader who opens the author's link sees the author's picture, pixel for pixel.
  const charts = ['schedule-canvas', 'forward-canvas', 'posterior-canvas'];
  const picture = async (p) => {
    await settle(p);
    return Promise.all(charts.map(async (id) => (await canvasStats(p, id)).hash));
  };
  const authors = await picture(page);
  const reader = await openPage(ctx.browser, url.href);
  assert.deepEqual(await picture(reader), authors, 'the same picture from the link');
  const plain = await openPage(ctx.browser, ctx.server.url);
  assert.notDeepEqual(await picture(plain), authors, 'and not the default one');
  assert.deepEqual(page.problems, []);
  assert.deepEqual(reader.problems, []);
});

test('bad values in a link and in typed fields are clamped and said', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?batch=99999&lr=-1&digit=x&hide=nope`);
  await settle(page);
  const notes = await page.locator('#notices').textContent();
  assert.match(notes, /batch.*99999 is above 4096/);
  assert.match(notes, /lr.*below/);
  assert.match(notes, /digit.*'x' is not one of/);
  assert.match(notes, /hide.*no control named 'nope'/);
  assert.equal(await page.locator('#batch').inputValue(), '4096');
  await page.fill('#hidden', '100000');
  await page.locator('#hidden').blur();
  await settle(page);
  assert.equal(await page.locator('#hidden').inputValue(), '512', 'the typed value is put back in range');
  assert.match(await page.locator('#notices').textContent(), /hidden.*above 512/);
  assert.match((await link(page)).href, /hidden=512/);
  assert.deepEqual(page.problems, []);
});

test('hide and lock flags hide and lock controls; an embed shows only its own', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?panel=schedule&hide=b1&lock=T,kind`);
  await settle(page);
  const visible = (id) => page.locator(`#${id}`).isVisible();
  assert.equal(await visible('b1'), false, 'hidden');
  assert.equal(await visible('data'), false, 'the schedule does not depend on the data set');
  assert.equal(await visible('T'), true);
  assert.equal(await page.locator('#T').isDisabled(), true, 'locked');
  assert.equal(await page.locator('#kind').isDisabled(), true, 'locked');
  assert.equal(await page.locator('#t').isDisabled(), false);
  assert.equal(await visible('panel-forward'), false);
  await page.locator('#t').fill('600');
  await settle(page);
  assert.match((await link(page)).href, /t=600/);
  assert.match((await link(page)).href, /lock=kind%2CT/, 'locked controls in table order');
  await screenshot(page, 'embed-locked');
  assert.deepEqual(page.problems, []);
});

test('the embed builder writes a link and a snippet and previews them', async () => {
  const page = await openPage(ctx.browser, ctx.server.url, { height: 1000 });
  await page.click('#panel-schedule [data-share]');
  await page.waitForSelector('#share-dialog[open]');
  await page.selectOption('#share-controls select[data-key="T"]', 'lock');
  await page.selectOption('#share-controls select[data-key="b1"]', 'hide');
  const link = await page.locator('#share-link').inputValue();
  const url = new URL(link);
  assert.equal(url.searchParams.get('panel'), 'schedule');
  assert.equal(url.searchParams.get('lock'), 'T');
  assert.equal(url.searchParams.get('hide'), 'b1');
  const snippet = await page.locator('#share-snippet').inputValue();
  assert.match(snippet, /^<iframe src="[^"]+panel=schedule[^"]*" title="Diffusion Playground: the noise schedule" width="100%" height="\d+" loading="lazy" allowfullscreen/);
  // The preview is the embed itself, and it reports its height, which the snippet then uses.
  const frame = page.frameLocator('#share-preview');
  await frame.locator('body[data-ready=true]').waitFor({ timeout: 60_000 });
  assert.equal(await frame.locator('#T').isDisabled(), true);
  await page.waitForFunction(() => !/height="560"/.test(document.querySelector('#share-snippet').value), null, { timeout: 20_000 });
  const height = Number(/height="(\d+)"/.exec(await page.locator('#share-snippet').inputValue())[1]);
  assert.ok(height > 300 && height < 1200, `measured height ${height}`);
  await screenshot(page, 'embed-builder');
  await page.click('#share-close');
  assert.equal(await page.locator('#share-dialog').isVisible(), false);
  assert.deepEqual(page.problems, []);
});

/** A host page on its own origin that frames the playground and records its messages. */
async function serveHost(playground) {
  const html = `<!doctype html><title>host</title>
<iframe id="demo" src="${playground}" title="demo" style="width:900px;height:200px;border:0"></iframe>
<script>
  window.got = [];
  addEventListener('message', (e) => {
    if (typeof e.data?.type !== 'string' || !e.data.type.startsWith('diffusion-playground:')) return;
    window.got.push({ origin: e.origin, data: e.data });
    if (e.data.type === 'diffusion-playground:height') document.getElementById('demo').style.height = e.data.height + 'px';
  });
  window.send = (m) => document.getElementById('demo').contentWindow.postMessage(m, '*');
</script>`;
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://localhost:${server.address().port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

test('a host page on another origin sizes, sets, reads and drives an embed', async () => {
  const host = await serveHost(`${ctx.server.url}?panel=train&steps=60`);
  try {
    const context = await ctx.browser.newContext({ viewport: { width: 1000, height: 900 }, serviceWorkers: 'block' });
    const hostPage = await context.newPage();
    hostPage.problems = [];
    hostPage.on('pageerror', (err) => hostPage.problems.push(err.message));
    hostPage.on('console', (m) => m.type() === 'error' && hostPage.problems.push(m.text()));
    await hostPage.goto(host.url);
    await hostPage.waitForFunction(() => window.got.some((m) => m.data.type === 'diffusion-playground:height'), null, { timeout: 60_000 });
    await hostPage.waitForTimeout(500);
    const last = await hostPage.evaluate(() => window.got.filter((m) => m.data.type === 'diffusion-playground:height').at(-1));
    assert.equal(last.origin, new URL(ctx.server.url).origin, 'messages come from the frame\'s origin');
    assert.ok(last.data.height > 300, `height ${last.data.height}`);
    const frameHeight = await hostPage.evaluate(() => document.getElementById('demo').offsetHeight);
    assert.equal(frameHeight, Math.ceil(last.data.height), 'the host sized the frame');

    await hostPage.evaluate(() => window.send({ type: 'diffusion-playground:set', params: { T: 200, t: 50, lr: 0.01, bogus: 1, seed: 'abc' } }));
    await hostPage.waitForFunction(() => window.got.some((m) => m.data.type === 'diffusion-playground:state'));
    const state = await hostPage.evaluate(() => window.got.find((m) => m.data.type === 'diffusion-playground:state').data);
    assert.equal(state.params.T, 200);
    assert.equal(state.params.t, 50);
    assert.equal(state.params.lr, 0.01);
    assert.equal(state.params.seed, 0, 'a bad value keeps the current one');
    assert.equal(state.params.panel, 'train');
    assert.ok(state.corrections.some((c) => /bogus/.test(c)) && state.corrections.some((c) => /seed/.test(c)), state.corrections.join('; '));

    await hostPage.evaluate(() => { window.got = []; window.send({ type: 'diffusion-playground:get' }); });
    await hostPage.waitForFunction(() => window.got.some((m) => m.data.type === 'diffusion-playground:state'));
    const again = await hostPage.evaluate(() => window.got.find((m) => m.data.type === 'diffusion-playground:state').data);
    assert.equal(again.params.steps, 60);
    assert.equal(again.params.T, 200);

    // Junk is ignored without an exception.
    await hostPage.evaluate(() => {
      for (const m of [null, 1, 'x', [], { type: 5 }, { type: 'diffusion-playground:set' }, { type: 'diffusion-playground:set', params: [1, 2] },
        { type: 'diffusion-playground:action', action: 'explode' }, { type: 'diffusion-playground:nope' }, { type: 'diffusion-playground:set', params: { t: { deep: [1] } } }]) {
        window.send(m);
      }
    });
    // Wait for the frame's backend, then train through the API.
    const frame = hostPage.frameLocator('#demo');
    await frame.locator('#train-status', { hasText: 'Ready' }).waitFor({ timeout: 120_000 });
    await hostPage.evaluate(() => { window.got = []; window.send({ type: 'diffusion-playground:action', action: 'train' }); });
    await hostPage.waitForFunction(() => window.got.some((m) => m.data.type === 'diffusion-playground:event' && m.data.event === 'trained'), null, { timeout: 180_000 });
    const trained = await hostPage.evaluate(() => window.got.find((m) => m.data.event === 'trained').data);
    assert.equal(trained.panel, 'train');
    assert.match(trained.detail, /60 steps/);
    await hostPage.waitForFunction(() => window.got.some((m) => m.data.event === 'sampled'), null, { timeout: 120_000 });
    assert.deepEqual(hostPage.problems, []);
    await context.close();
  } finally {
    await host.close();
  }
});

/** Clicks an export button and returns the downloaded file's name and bytes. */
async function download(page, panel, kind) {
  const [file] = await Promise.all([
    page.waitForEvent('download', { timeout: 30_000 }),
    page.click(`[data-panel="${panel}"] [data-export="${kind}"]`),
  ]);
  const path = await file.path();
  return { name: file.suggestedFilename(), bytes: await readFile(path) };
}

const pngSize = (bytes) => {
  assert.deepEqual([...bytes.subarray(1, 4)], [80, 78, 71], 'a PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
};

test('every export button downloads a file of its kind', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?steps=40&rsteps=10&dsteps=2`, { height: 5000 });
  await waitForBackend(page);
  await page.click('#train');
  await page.waitForFunction(() => document.querySelector('#train-status').dataset.state === 'sampled', null, { timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector('#digits-status').dataset.state === 'ready', null, { timeout: 120_000 });
  await page.click('#digits-sample');
  await page.waitForFunction(() => document.querySelector('#digits-status').dataset.state === 'done', null, { timeout: 120_000 });
  const canvasOf = { schedule: 'schedule-canvas', forward: 'forward-canvas', posterior: 'posterior-canvas', score: 'score-canvas', train: 'samples-canvas', digits: 'digits-canvas' };
  for (const [panel, id] of Object.entries(canvasOf)) {
    const size = await page.evaluate((id) => {
      const c = document.getElementById(id);
      return { width: c.width, height: c.height, cssWidth: c.clientWidth, cssHeight: c.clientHeight };
    }, id);
    const png = await download(page, panel, 'png');
    assert.match(png.name, new RegExp(`^diffusion-${panel}.*\\.png$`));
    assert.deepEqual(pngSize(png.bytes), { width: size.width, height: size.height }, `${panel} png`);
    const big = pngSize((await download(page, panel, 'png3x')).bytes);
    const expected = panel === 'digits'
      ? { width: size.width * 3, height: size.height * 3 }
      : { width: Math.round(size.cssWidth * 3), height: Math.round(size.cssHeight * 3) };
    assert.deepEqual(big, expected, `${panel} png3x`);
    const svg = (await download(page, panel, 'svg')).bytes.toString('utf8');
    assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/, `${panel} svg`);
    assert.ok(svg.trim().endsWith('</svg>'), `${panel} svg is complete`);
    const parsed = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
      return { error: doc.querySelector('parsererror')?.textContent ?? null, text: doc.documentElement.textContent };
    }, svg);
    assert.equal(parsed.error, null, `${panel} svg parses`);
    const words = { schedule: /SNR/, forward: /x₀/, posterior: /steps from x_t/, score: /1/, train: null, digits: null };
    if (words[panel]) assert.match(parsed.text, words[panel], `${panel} svg has the chart's text`);
    const csv = (await download(page, panel, 'csv')).bytes.toString('utf8').trim().split('\n');
    assert.ok(csv.length > 2, `${panel} csv has rows`);
    const columns = csv[0].split(',').length;
    assert.ok(csv.every((row) => row.split(',').length === columns), `${panel} csv rows match the header`);
    if (panel === 'forward') assert.equal(csv.length, 1 + 2000, 'one row per point drawn');
    if (panel === 'schedule') assert.equal(csv.length, 1 + 1000, 'one row per timestep');
    if (panel === 'train') assert.equal(csv.length, 1 + 1000, 'one row per particle');
    if (panel === 'digits') assert.equal(csv.length, 1 + 32, 'x_t and predicted x_0 of 16 digits');
  }

  // Videos: the forward sweep and the reverse chain, recorded from the canvas.
  for (const panel of ['forward', 'train']) {
    await page.fill(`#${panel}-video-seconds`, '1');
    const video = await download(page, panel, 'webm');
    assert.match(video.name, /\.webm$/);
    assert.deepEqual([...video.bytes.subarray(0, 4)], [0x1a, 0x45, 0xdf, 0xa3], `${panel}: a WebM (EBML) file`);
    assert.ok(video.bytes.length > 2000, `${panel} video has ${video.bytes.length} bytes`);
  }
  assert.match((await link(page)).href, /steps=40/, 'the view is restored after the sweep');
  assert.doesNotMatch((await link(page)).href, /[?&]t=/, 't is back at its default');

  // The trained model: exported, refused when damaged, imported back predicting the same.
  await page.selectOption('#train-device', 'cpu');
  const model = await download(page, 'train', 'model');
  const bundle = JSON.parse(model.bytes.toString('utf8'));
  assert.equal(bundle.format, 'diffusion-playground/2d-model');
  assert.equal(bundle.config.steps, 40);
  assert.equal(bundle.losses.length, 40);
  const gap = await page.locator('#posterior-model').getAttribute('data-gap');
  const losses = await page.evaluate(() => window.wasmBindings.training_losses());
  // Empty, truncated, of another network, enormous, or not a model at all: each refused with a
  // reason, and the current model stays.
  const otherNetwork = JSON.stringify({ ...bundle, config: { ...bundle.config, model: { ...bundle.config.model, hidden: bundle.config.model.hidden * 2 } } });
  const bad = [
    ['empty.json', Buffer.alloc(0)],
    ['broken.json', model.bytes.subarray(0, 200)],
    ['other.json', Buffer.from(otherNetwork)],
    ['huge.json', Buffer.alloc(20_000_000, 32)],
    ['picture.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 13])],
    ['list.json', Buffer.from('[1, 2, 3]')],
  ];
  for (const [name, buffer] of bad) {
    await page.evaluate(() => { document.querySelector('#train-status').dataset.state = 'idle'; });
    await page.setInputFiles('#model-import', { name, mimeType: 'application/json', buffer });
    await page.waitForFunction(() => document.querySelector('#train-status').dataset.state === 'refused', null, { timeout: 30_000 });
    const said = await page.locator('#train-status').textContent();
    assert.match(said, new RegExp(`${name.replace('.', '\\.')} was not imported: .+The current model is kept`), said);
    assert.deepEqual(await page.evaluate(() => window.wasmBindings.training_losses()), losses, `${name}: the current model stays`);
  }
  await page.click('#reset');
  await page.setInputFiles('#model-import', { name: 'model.json', mimeType: 'application/json', buffer: model.bytes });
  await page.waitForFunction(() => document.querySelector('#train-status').dataset.state === 'sampled', null, { timeout: 60_000 });
  assert.match(await page.locator('#train-status').textContent(), /Imported a model trained for 40 steps/);
  assert.deepEqual(await page.evaluate(() => window.wasmBindings.training_losses()), losses);
  await page.waitForFunction((gap) => document.querySelector('#posterior-model')?.dataset.gap === gap, gap, { timeout: 30_000 });
  assert.deepEqual(page.problems, []);
});

test('the built page has a strict Content-Security-Policy and breaks none of it', async () => {
  const page = await openPage(ctx.browser, `${ctx.server.url}?steps=30&rsteps=5`);
  const csp = await page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content ?? '');
  for (const directive of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "worker-src 'self'", "object-src 'none'", "base-uri 'none'"]) {
    assert.ok(csp.includes(directive), `${directive} in ${csp}`);
  }
  // Inline style only as attributes (plotters' legends measure text with a styled span).
  assert.ok(!/style-src [^;]*unsafe-inline/.test(csp), csp);
  assert.equal(await page.evaluate(() => document.querySelectorAll('script:not([src])').length), 0, 'no inline script');
  await waitForBackend(page);
  await page.click('#train');
  await page.waitForFunction(() => document.querySelector('#train-status').dataset.state === 'sampled', null, { timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector('#digits-status').dataset.state === 'ready', null, { timeout: 120_000 });
  await page.click('#panel-forward [data-share]');
  await page.frameLocator('#share-preview').locator('body[data-ready=true]').waitFor({ timeout: 60_000 });
  // Enter in the seed field must not submit the form (a reload would lose the state).
  await page.click('#share-close');
  await page.fill('#seed', '5');
  await page.press('#seed', 'Enter');
  await settle(page);
  assert.match((await link(page)).href, /seed=5/);
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
  assert.deepEqual(page.problems, []);
});

test('served from a sub-path and inside a sandboxed frame, the page works', async () => {
  const { serveDist } = await import('./harness.mjs');
  const sub = await serveDist({ prefix: '/playground/' });
  try {
    const page = await openPage(ctx.browser, `${sub.url}?panel=digits`);
    await page.waitForFunction(() => document.querySelector('#digits-status').dataset.state === 'ready', null, { timeout: 120_000 });
    assert.match((await link(page)).href, /\/playground\/\?panel=digits/);
    assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
    assert.deepEqual(page.problems, []);
    await page.context().close();

    const html = `<!doctype html><title>sandboxed</title><iframe sandbox="allow-scripts allow-same-origin allow-downloads" src="${sub.url}?panel=forward" title="demo" style="width:900px;height:900px"></iframe>`;
    const host = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise((ok) => host.listen(0, '127.0.0.1', ok));
    const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
    const hostPage = await context.newPage();
    const problems = [];
    hostPage.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    hostPage.on('pageerror', (e) => problems.push(e.message));
    await hostPage.goto(`http://127.0.0.1:${host.address().port}/`);
    const frame = hostPage.frameLocator('iframe');
    await frame.locator('body[data-ready=true]').waitFor({ timeout: 60_000 });
    assert.ok(await frame.locator('#forward-canvas').isVisible());
    await frame.locator('#t').fill('700');
    assert.equal(await frame.locator('#t-out').textContent(), '700');
    assert.deepEqual(problems, []);
    await context.close();
    await new Promise((ok) => host.close(ok));
  } finally {
    await sub.close();
  }
});
