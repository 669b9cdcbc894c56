#!/usr/bin/env node
'use strict';
// Builds the native addon build/Release/obatch.node, offline: SWIG generates
// the V8 wrapper from the interface (swig/obatch.i in a packed tarball, where
// `npm pack` copied it; ../obatch.i, the repository's one interface, in a
// checkout) and the headers of the installed libobatch, then the C++ compiler
// builds it against Node's own headers and that libobatch, both found with
// `pkg-config obatch`. Run by `npm install` and `npm run build`.
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

// What to install when a tool is missing (Debian's package names).
const DEBIAN = { swig: 'swig', 'c++': 'g++', 'pkg-config': 'pkg-config' };

function notInstalled(cmd) {
  const pkg = DEBIAN[path.basename(cmd)];
  return `${cmd} is not installed` + (pkg ? ` (Debian: apt-get install ${pkg})` : '');
}

function run(cmd, args) {
  console.log([cmd, ...args].join(' '));
  try {
    execFileSync(cmd, args, { stdio: 'inherit' });
  } catch (err) {
    die(err.code === 'ENOENT' ? notInstalled(cmd) : `${cmd} failed (${err.status})`);
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
    if (err.code === 'ENOENT') die(notInstalled(tool));
    die(
      `\`${tool} ${args.join(' ')}\` failed: libobatch's development files (obatch.pc, ` +
        'obatch/obatch.h, libobatch.so) are not installed where pkg-config looks.\n' +
        '  Debian/Ubuntu: apt-get install libobatch-dev (made from an obatch checkout by ' +
        '`dpkg-buildpackage -us -uc -b`)\n' +
        '  From source: cmake -S . -B build && cmake --build build && cmake --install build ' +
        '--prefix PREFIX, then install with PKG_CONFIG_PATH=PREFIX/lib/pkgconfig' +
        (err.stderr ? `\n${err.stderr.trim()}` : ''),
    );
  }
}

// The loader's own directories need no rpath (and a distribution's library
// must not be shadowed by one).
function isSystemLibDir(dir) {
  return /^\/(usr\/)?lib(64|32)?(\/[^/]+-linux-gnu[^/]*)?\/?$/.test(dir);
}

// swig/ in a packed tarball; the repository's bindings/ in a checkout.
function interfaceFile() {
  const candidates = [path.join(pkgDir, 'swig', 'obatch.i'), path.resolve(pkgDir, '..', 'obatch.i')];
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) {
    die(`the SWIG interface is missing (looked for ${candidates.join(', ')}): install a tarball ` +
        'made by `npm pack` in bindings/node, or from an obatch checkout');
  }
  return found;
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
  const iface = interfaceFile();
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
    ...libs, ...(isSystemLibDir(libdir) ? [] : [`-Wl,-rpath,${libdir}`]),
  ]);
  console.log(`obatch: built ${addon}`);
}

main();
