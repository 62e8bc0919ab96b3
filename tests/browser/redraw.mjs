// The redraw benchmark alone (the first numbers of bench.mjs), for quick runs while working on
// drawing speed: `node tests/browser/redraw.mjs`.
import { serveDist, launch, openPage, waitForBackend, settle, dragT, EVERY_PANEL } from './harness.mjs';

const server = await serveDist();
const browser = await launch();
try {
  for (const scale of [1, 2]) {
    const page = await openPage(browser, server.url, { scale, ...EVERY_PANEL });
    await waitForBackend(page);
    await settle(page);
    const { timings, parts } = await dragT(page, 200);
    const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
    console.log(`devicePixelRatio ${scale}: redraw p50 ${q(timings, 0.5).toFixed(1)} ms, p95 ${q(timings, 0.95).toFixed(1)} ms`);
    console.log(`  median ms per part: ${Object.entries(parts).map(([k, v]) => `${k} ${q(v, 0.5).toFixed(1)}`).join(', ')}`);
    await page.context().close();
  }
} finally {
  await browser.close();
  await server.close();
}
