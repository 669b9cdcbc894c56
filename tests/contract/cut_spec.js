#!/usr/bin/env node
// Cut OpenAI's full OpenAPI spec down to the Files and Batches calls obatch makes.
//
//   node cut_spec.js FULL_SPEC.yaml OUT.yaml
//
// Keeps only the paths below, every component they reference (found by walking
// $ref transitively, plus discriminator mapping targets), and the security
// schemes. Every kept path gets a "/v1" prefix: Prism ignores the path part of
// the spec's server URL, so without the prefix the client's base URL could not
// end in /v1 as it does against the real API. Documentation-only extensions
// (x-oaiMeta) and the webhooks section are dropped; they do not affect
// validation. On the full 3 MB spec Prism needs ~11 s to start; on the cut one
// well under a second.
'use strict';

const fs = require('fs');
const YAML = require('yaml');

const KEEP_PATHS = [
  '/files',
  '/files/{file_id}',
  '/files/{file_id}/content',
  '/batches',
  '/batches/{batch_id}',
  '/batches/{batch_id}/cancel',
];
const PATH_PREFIX = '/v1';

function die(msg) {
  process.stderr.write(`cut_spec.js: ${msg}\n`);
  process.exit(2);
}

// JSON pointer ("#/a/b~1c") -> array of unescaped tokens.
function pointerTokens(ref) {
  if (!ref.startsWith('#/')) return null; // external refs are not used by this spec
  return ref
    .slice(2)
    .split('/')
    .map((t) => decodeURIComponent(t).replace(/~1/g, '/').replace(/~0/g, '~'));
}

function lookup(doc, tokens) {
  let cur = doc;
  for (const t of tokens) {
    if (cur === null || typeof cur !== 'object' || !(t in cur)) return undefined;
    cur = cur[t];
  }
  return cur;
}

// Drop documentation-only vendor extensions from a copied subtree.
function stripDocs(node) {
  if (Array.isArray(node)) return node.map(stripDocs);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'x-oaiMeta') continue;
    out[k] = stripDocs(v);
  }
  return out;
}

function main() {
  const [inFile, outFile] = process.argv.slice(2);
  if (!inFile || !outFile) die('usage: node cut_spec.js FULL_SPEC.yaml OUT.yaml');

  let doc;
  try {
    doc = YAML.parse(fs.readFileSync(inFile, 'utf8'), { maxAliasCount: -1 });
  } catch (e) {
    die(`cannot read or parse ${inFile}: ${e.message}`);
  }
  if (!doc || typeof doc !== 'object' || !doc.paths || !doc.components) {
    die(`${inFile} does not look like an OpenAPI document (no paths/components)`);
  }

  // components/<kind>/<name> entries to keep, as "kind\0name".
  const kept = new Set();
  const queue = [];

  function noteRef(ref, where) {
    const tokens = pointerTokens(ref);
    if (!tokens) die(`unsupported non-local $ref ${JSON.stringify(ref)} at ${where}`);
    if (tokens[0] !== 'components' || tokens.length < 3) {
      die(`unexpected $ref target ${JSON.stringify(ref)} at ${where}`);
    }
    if (lookup(doc, tokens) === undefined) die(`dangling $ref ${JSON.stringify(ref)} at ${where}`);
    const key = `${tokens[1]}\0${tokens[2]}`;
    if (!kept.has(key)) {
      kept.add(key);
      queue.push([tokens[1], tokens[2]]);
    }
  }

  function walk(node, where) {
    if (Array.isArray(node)) {
      node.forEach((v, i) => walk(v, `${where}/${i}`));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'x-oaiMeta') continue; // docs only; not copied, so its refs do not matter
      if (k === '$ref' && typeof v === 'string') {
        noteRef(v, where);
      } else if (k === 'mapping' && v && typeof v === 'object' && !Array.isArray(v)) {
        // discriminator.mapping values are refs written as plain strings
        for (const [mk, mv] of Object.entries(v)) {
          if (typeof mv === 'string' && mv.startsWith('#/')) noteRef(mv, `${where}/mapping/${mk}`);
          else walk(mv, `${where}/mapping/${mk}`);
        }
      } else {
        walk(v, `${where}/${k}`);
      }
    }
  }

  const paths = {};
  for (const p of KEEP_PATHS) {
    const item = doc.paths[p];
    if (!item) die(`path ${p} not found in ${inFile}`);
    walk(item, `#/paths/${p}`);
    paths[PATH_PREFIX + p] = stripDocs(item);
  }
  // The security schemes are kept whole (the global `security` requirement names them).
  if (doc.components.securitySchemes) walk(doc.components.securitySchemes, '#/components/securitySchemes');
  while (queue.length) {
    const [kind, name] = queue.shift();
    walk(doc.components[kind][name], `#/components/${kind}/${name}`);
  }

  const components = {};
  for (const key of [...kept].sort()) {
    const [kind, name] = key.split('\0');
    (components[kind] ||= {})[name] = stripDocs(doc.components[kind][name]);
  }
  if (doc.components.securitySchemes) components.securitySchemes = doc.components.securitySchemes;

  const out = {
    openapi: doc.openapi,
    info: {
      ...doc.info,
      description:
        `${doc.info && doc.info.description ? doc.info.description + '\n\n' : ''}` +
        `Cut down by obatch tests/contract/cut_spec.js to: ${KEEP_PATHS.join(', ')} ` +
        `(served with a ${PATH_PREFIX} prefix).`,
    },
    servers: doc.servers,
    security: doc.security,
    paths,
    components,
  };

  const text = YAML.stringify(out, { aliasDuplicateObjects: false, lineWidth: 0 });
  fs.writeFileSync(outFile, text);
  const counts = Object.entries(components)
    .map(([k, v]) => `${Object.keys(v).length} ${k}`)
    .join(', ');
  process.stderr.write(
    `cut_spec.js: wrote ${outFile}: ${Object.keys(paths).length} paths, ${counts}, ${text.length} bytes\n`,
  );
}

main();
