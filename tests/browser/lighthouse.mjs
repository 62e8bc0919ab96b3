// Lighthouse's accessibility audit of the page: the full page, projector mode and an embed, in
// Debian's headless Chromium. Prints each score and every failed audit; exits non-zero below
// 100 (axe-core runs on the same views in classroom.test.mjs, with the dark theme too).
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { serveDist } from './harness.mjs';

const server = await serveDist();
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu'],
});
let worst = 100;
try {
  for (const [label, query] of [['full page', ''], ['projector mode', '?projector=1'], ['an embed of the posterior', '?panel=posterior'], ['the walk', '?tour=4']]) {
    const result = await lighthouse(server.url + query, {
      port: chrome.port,
      onlyCategories: ['accessibility'],
      formFactor: 'desktop',
      screenEmulation: { mobile: false, width: 1440, height: 1200, deviceScaleFactor: 1, disabled: false },
      throttlingMethod: 'provided',
      logLevel: 'error',
    });
    const score = Math.round(result.lhr.categories.accessibility.score * 100);
    worst = Math.min(worst, score);
    const failed = Object.values(result.lhr.audits)
      .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode === 'binary')
      .map((a) => `${a.id}: ${a.title}`);
    console.log(`Lighthouse accessibility, ${label}: ${score}${failed.length ? ` (failed: ${failed.join('; ')})` : ''}`);
  }
} finally {
  await chrome.kill();
  await server.close();
}
if (worst < 100) {
  console.error(`Lighthouse accessibility is ${worst}, below 100`);
  process.exit(1);
}
