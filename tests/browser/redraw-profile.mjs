// Where a redraw's time goes while t is dragged, for work on drawing speed (not run by the
// tests): the browser's layouts and style recalculations with the page function that forced
// each, then a CPU profile by function. Function names need a page module built without strip:
// `CARGO_PROFILE_WEB_PAGE_STRIP=none trunk build`. `node tests/browser/redraw-profile.mjs`.
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveDist, launch, openPage, waitForBackend, settle, dragT, EVERY_PANEL } from './harness.mjs';

const STEPS = 60;
const drag = (steps) => dragT(page, steps);
const perStep = (us) => `${(us / 1000 / STEPS).toFixed(2)} ms`;

const server = await serveDist();
const browser = await launch();
const page = await openPage(browser, server.url, { scale: 1, ...EVERY_PANEL });
try {
  await waitForBackend(page);
  await settle(page);

  // 1. Layouts and style recalculations, by the call that forced them ('' = the frame's own).
  const path = join(tmpdir(), 'redraw-trace.json');
  await browser.startTracing(page, {
    path,
    categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline.stack'],
  });
  await drag(STEPS);
  await browser.stopTracing();
  const trace = JSON.parse(await readFile(path, 'utf8'));
  await rm(path);
  const layouts = new Map();
  for (const e of trace.traceEvents ?? trace) {
    if (e.ph !== 'X' || !['Layout', 'UpdateLayoutTree', 'Paint'].includes(e.name)) continue;
    const stack = e.args?.beginData?.stackTrace ?? e.args?.data?.stackTrace ?? [];
    const by = stack.map((f) => f.functionName).find((n) => n.startsWith('__wbg_')) ?? '';
    const key = `${e.name} ${by.replace(/^__wbg_(.*)_[0-9a-f]+$/, '$1')}`;
    const [n, us] = layouts.get(key) ?? [0, 0];
    layouts.set(key, [n + 1, us + e.dur]);
  }
  console.log(`per step of t (${STEPS} steps): browser work, by what forced it`);
  for (const [key, [n, us]] of [...layouts].sort((a, b) => b[1][1] - a[1][1])) {
    console.log(`  ${(n / STEPS).toFixed(1)}x ${perStep(us).padStart(9)}  ${key}`);
  }

  // 2. CPU profile: time spent in each function itself and below it.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await cdp.send('Profiler.start');
  await drag(STEPS);
  const { profile } = await cdp.send('Profiler.stop');
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const own = new Map();
  const below = new Map();
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const name = (n) => n.callFrame.functionName || '(anonymous)';
    own.set(name(nodes.get(id)), (own.get(name(nodes.get(id))) ?? 0) + dt);
    const seen = new Set();
    for (let at = id; at; at = parent.get(at)) {
      const k = name(nodes.get(at));
      if (!seen.has(k)) below.set(k, (below.get(k) ?? 0) + dt);
      seen.add(k);
    }
  });
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, us]) => `  ${perStep(us).padStart(9)}  ${k.replace(/::h[0-9a-f]{16}$/, '').slice(0, 120)}`).join('\n');
  console.log(`\nper step: time in each function itself\n${top(own, 25)}`);
  console.log(`\nper step: time in each function and what it called\n${top(below, 40)}`);
} finally {
  await browser.close();
  await server.close();
}
