// The redraw benchmark alone (the first numbers of bench.mjs), for quick runs while working on
// drawing speed: `node tests/browser/redraw.mjs`.
import { serveDist, launch, openPage, waitForBackend, settle } from './harness.mjs';

const server = await serveDist();
const browser = await launch();
try {
  for (const scale of [1, 2]) {
    const page = await openPage(browser, server.url, { scale });
    await waitForBackend(page);
    await settle(page);
    const { timings, parts } = await page.evaluate(async (steps) => {
      const slider = document.getElementById('t');
      const parts = {};
      const timings = [];
      for (let i = 0; i < steps; i++) {
        slider.value = String(50 + ((i * 7) % 900));
        slider.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
        timings.push(window.wasmBindings.render_timings().at(-1));
        const flat = window.wasmBindings.render_parts();
        for (let k = 0; k < flat.length; k += 2) (parts[flat[k]] ??= []).push(flat[k + 1]);
      }
      return { timings, parts };
    }, 200);
    const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
    console.log(`devicePixelRatio ${scale}: redraw p50 ${q(timings, 0.5).toFixed(1)} ms, p95 ${q(timings, 0.95).toFixed(1)} ms`);
    console.log(`  median ms per part: ${Object.entries(parts).map(([k, v]) => `${k} ${q(v, 0.5).toFixed(1)}`).join(', ')}`);
    await page.context().close();
  }
} finally {
  await browser.close();
  await server.close();
}
