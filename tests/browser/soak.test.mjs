// Two minutes of the lesson in soak.mjs, with its assertions: memory within its bounds of the
// first round (see soak.mjs), no console error, and a drag still redrawn on the next frame.
// The 30-minute run is a benchmark: `node tests/browser/soak.mjs --minutes 30`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soak, judge } from './soak.mjs';

test('two minutes of class use leak nothing and leave the page responsive', { timeout: 600_000 }, async () => {
  const report = await soak({ minutes: 2, log: (line) => console.log(`# ${line}`) });
  console.log(`# ${JSON.stringify(report.counts)}`);
  assert.ok(report.counts.trainings >= 2 && report.counts.grids >= 1, JSON.stringify(report.counts));
  assert.ok(report.samples.length >= 2, `${report.samples.length} memory samples`);
  assert.deepEqual(judge(report), []);
});
