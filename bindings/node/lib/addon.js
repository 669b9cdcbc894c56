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
  return require(file);
}

module.exports = load();
