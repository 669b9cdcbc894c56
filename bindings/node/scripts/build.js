#!/usr/bin/env node
'use strict';
// Builds the native addon build/Release/obatch.node, offline: SWIG generates
// the V8 wrapper from ../obatch.i (the repository's one interface), then the
// C++ compiler builds it against Node's own headers and the installed
// libobatch (found with pkg-config). Run by `npm install` and `npm run build`.
//
// Environment (all optional):
//   OBATCH_NODE_ADDON  an addon built elsewhere (e.g. by CMake): nothing is built
//   PKG_CONFIG_PATH    where obatch.pc is, for a libobatch outside /usr/local
//   NODE_INCLUDE_DIR   Node's headers (default: next to the running node)
//   SWIG, CXX, PKG_CONFIG  the tools (default: swig, c++, pkg-config)
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const pkgDir = path.resolve(__dirname, '..');
const outDir = path.join(pkgDir, 'build');
const addon = path.join(outDir, 'Release', 'obatch.node');

function die(message) {
  console.error(`obatch: ${message}`);
  process.exit(1);
}

function run(cmd, args) {
  console.log([cmd, ...args].join(' '));
  try {
    execFileSync(cmd, args, { stdio: 'inherit' });
  } catch (err) {
    die(err.code === 'ENOENT' ? `${cmd} is not installed` : `${cmd} failed (${err.status})`);
  }
}

function words(text) {
  return text.split(/\s+/).filter(Boolean);
}

function pkgConfig(args) {
  const tool = process.env.PKG_CONFIG || 'pkg-config';
  try {
    return execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    die(
      `${tool} ${args.join(' ')} failed: is libobatch installed? ` +
        'Build and install it first (cmake -S . -B build && cmake --build build && ' +
        'cmake --install build), and set PKG_CONFIG_PATH=<prefix>/lib/pkgconfig for a ' +
        'prefix pkg-config does not search.' +
        (err.stderr ? `\n${err.stderr}` : ''),
    );
  }
}

function nodeIncludeDir() {
  const candidates = [
    process.env.NODE_INCLUDE_DIR,
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'node.h')));
  if (!found) die(`Node's headers (node.h) are not in ${candidates.join(', ')}; set NODE_INCLUDE_DIR`);
  return found;
}

function main() {
  if (process.env.OBATCH_NODE_ADDON) {
    console.log(`obatch: using the addon ${process.env.OBATCH_NODE_ADDON}; nothing to build`);
    return;
  }
  const iface = path.resolve(pkgDir, '..', 'obatch.i');
  if (!fs.existsSync(iface)) {
    die(`${iface} is missing: install from the obatch repository (npm install <repo>/bindings/node)`);
  }
  const cflags = words(pkgConfig(['--cflags', 'obatch']));
  const libs = words(pkgConfig(['--libs', 'obatch']));
  const libdir = path.resolve(pkgConfig(['--variable=libdir', 'obatch']));
  const includes = cflags.filter((f) => f.startsWith('-I'));

  fs.mkdirSync(path.dirname(addon), { recursive: true });
  const wrap = path.join(outDir, 'obatch_wrap.cxx');
  run(process.env.SWIG || 'swig', [
    '-javascript', '-node', '-c++',
    ...includes, `-I${path.dirname(iface)}`,
    '-o', wrap, iface,
  ]);
  run(process.env.CXX || 'c++', [
    '-std=c++17', '-O2', '-fPIC', '-shared',
    '-DBUILDING_NODE_EXTENSION', '-DNODE_GYP_MODULE_NAME=obatch',
    '-isystem', nodeIncludeDir(),
    ...cflags,
    wrap, '-o', addon,
    ...libs, `-Wl,-rpath,${libdir}`,
  ]);
  console.log(`obatch: built ${addon}`);
}

main();
