#!/usr/bin/env node
'use strict';
// `npm pack` / `npm publish` (prepack, postpack): the SWIG interface is shared
// by every binding (bindings/obatch.i, which includes node/obatch_node.i), so
// it is outside this package's directory. prepack copies it into swig/, which
// the tarball ships ("files") and scripts/build.js reads at install time;
// postpack removes the copy again (swig/ is git-ignored).
//   node scripts/pack.js copy | clean
const fs = require('node:fs');
const path = require('node:path');

const pkgDir = path.resolve(__dirname, '..');
const swigDir = path.join(pkgDir, 'swig');
const sources = [
  [path.resolve(pkgDir, '..', 'obatch.i'), path.join(swigDir, 'obatch.i')],
  [path.join(pkgDir, 'obatch_node.i'), path.join(swigDir, 'node', 'obatch_node.i')],
];

const what = process.argv[2];
fs.rmSync(swigDir, { recursive: true, force: true });
if (what === 'copy') {
  for (const [from, to] of sources) {
    if (!fs.existsSync(from)) {
      console.error(`obatch: ${from} is missing: pack from bindings/node of an obatch checkout`);
      process.exit(1);
    }
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  }
} else if (what !== 'clean') {
  console.error('usage: node scripts/pack.js copy|clean');
  process.exit(2);
}
