// Where the page's worker spends a grid of 16 digits: a CPU profile of the worker (CDP) with
// the self time of each function. Function names need a build that keeps them:
//
//   grep -v 'data-bin="worker" ' www/index.html > www/dev-prof.html
//   CARGO_TARGET_DIR=/tmp/proftarget CARGO_PROFILE_WEB_STRIP=none \
//     trunk build --locked --dist /tmp/profdist www/dev-prof.html   # ~15 min cold
//   DIST_DIR=/tmp/profdist node --experimental-websocket tests/browser/worker-profile.mjs
//
// Playwright has no CDP session for a dedicated worker, so this speaks CDP itself: it attaches
// to the page's target and auto-attaches to its worker in flatten mode.
import { serveDist, launch, openPage } from './harness.mjs';
import { writeFileSync } from 'node:fs';
const server = await serveDist();
const browser = await launch({ args: ['--remote-debugging-port=9333'] });
const page = await openPage(browser, `${server.url}?panel=digits`);
await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('#digits-status').dataset.state), null, { timeout: 120_000 });
const version = await (await fetch('http://127.0.0.1:9333/json/version')).json();
const ws = new WebSocket(version.webSocketDebuggerUrl);
await new Promise((ok) => ws.addEventListener('open', ok));
let id = 0; const pending = new Map(); const events = [];
ws.addEventListener('message', (m) => {
  const msg = JSON.parse(m.data);
  if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); } else events.push(msg);
});
const send = (method, params = {}, sessionId) => new Promise((ok) => { const i = ++id; pending.set(i, ok); ws.send(JSON.stringify({ id: i, method, params, sessionId })); });
const { result: { targetInfos } } = await send('Target.getTargets');
const pageTarget = targetInfos.find((t) => t.type === 'page' && t.url.includes('panel=digits'));
const { result: { sessionId: s1 } } = await send('Target.attachToTarget', { targetId: pageTarget.targetId, flatten: true });
await send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true }, s1);
await new Promise((ok) => setTimeout(ok, 500));
const attached = events.filter((e) => e.method === 'Target.attachedToTarget');
console.log('attached', attached.map((e) => `${e.params.targetInfo.type} ${e.params.targetInfo.url}`));
const worker = attached.find((e) => e.params.targetInfo.type === 'worker');
const s2 = worker.params.sessionId;
await send('Profiler.enable', {}, s2);
await send('Profiler.setSamplingInterval', { interval: 100 }, s2);
await send('Profiler.start', {}, s2);
const t0 = Date.now();
await page.click('#digits-sample');
await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('#digits-status').dataset.state), null, { timeout: 300_000 });
console.log('grid', Date.now() - t0, 'ms', await page.locator('#digits-status').textContent());
const { result: { profile } } = await send('Profiler.stop', {}, s2);
writeFileSync(process.env.PROFILE_OUT ?? '/tmp/worker.cpuprofile', JSON.stringify(profile));
// self time by function
const dt = {}; const byId = new Map(profile.nodes.map((n) => [n.id, n]));
for (let i = 0; i < profile.samples.length; i++) {
  const n = byId.get(profile.samples[i]); const name = n.callFrame.functionName || `(${n.callFrame.url.split('/').pop()})`;
  dt[name] = (dt[name] ?? 0) + (profile.timeDeltas[i] ?? 0);
}
const total = Object.values(dt).reduce((a, b) => a + b, 0);
for (const [k, v] of Object.entries(dt).sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${(100 * v / total).toFixed(1).padStart(5)}% ${(v / 1000).toFixed(0).padStart(6)} ms  ${k.slice(0, 150)}`);
ws.close(); await browser.close(); await server.close();
