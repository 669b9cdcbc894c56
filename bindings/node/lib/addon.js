'use strict';
// Loads the raw SWIG layer (obatch.node). Where from, first match wins:
//   1. $OBATCH_NODE_ADDON (the CMake build sets it for its tests),
//   2. build/Release/obatch.node in this package (made by `npm install`).
const fs = require('node:fs');
const path = require('node:path');

function addonPath() {
  if (process.env.OBATCH_NODE_ADDON) return path.resolve(process.env.OBATCH_NODE_ADDON);
  return path.join(__dirname, '..', 'build', 'Release', 'obatch.node');
}

function load() {
  const file = addonPath();
  if (!fs.existsSync(file)) {
    throw new Error(
      `obatch: the native addon ${file} is missing; build it with \`npm run build\` ` +
        '(needs swig, a C++ compiler and libobatch installed where pkg-config finds it)');
  }
  // RTLD_DEEPBIND: libobatch and the libraries it links (simdjson, SQLite,
  // OpenSSL, zlib, ...) must resolve each other's symbols, not the copies
  // that the node executable itself exports. Node 22 bundles its own simdjson
  // and exports its C++ symbols: without this, libobatch's calls went to
  // node's simdjson, of another version, and the first add() crashed.
  // node's own symbols (V8, N-API) are still found: deep binding only looks
  // in the addon's own dependencies first.
  const { dlopen } = require('node:os').constants;
  const m = { exports: {} };
  process.dlopen(m, file, (dlopen.RTLD_NOW ?? 0) | (dlopen.RTLD_DEEPBIND ?? 0));
  return m.exports;
}

module.exports = load();
