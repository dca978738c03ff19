#!/usr/bin/env node
/**
 * `npm run build`: TypeScript to dist/, the non-TypeScript assets next to their compiled modules
 * (drivers.json, plugin manifests, plain-JS helpers), and every native part (drivers/<name>/native.mk).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const top = path.resolve(__dirname, '..');
const dist = path.join(top, 'dist');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', cwd: top, ...opts });

run(process.execPath, [path.join(top, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);

/** Copy files matching `test` under `dir` (relative to the top) into dist/, keeping their paths. */
function copyAssets(dir, test) {
  const from = path.join(top, dir);
  if (!fs.existsSync(from)) return;
  for (const entry of fs.readdirSync(from, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const abs = path.join(entry.parentPath ?? entry.path, entry.name);
    const rel = path.relative(top, abs);
    if (rel.split(path.sep).some((p) => p === 'node_modules' || p === 'dist')) continue;
    if (!test(rel)) continue;
    fs.mkdirSync(path.dirname(path.join(dist, rel)), { recursive: true });
    fs.copyFileSync(abs, path.join(dist, rel));
  }
}

fs.copyFileSync(path.join(top, 'drivers.json'), path.join(dist, 'drivers.json'));
for (const dir of ['plugins', 'drivers', 'vendor']) {
  copyAssets(dir, (rel) => rel.endsWith('package.json') || (rel.endsWith('.js') && !rel.includes(`${path.sep}test${path.sep}`)));
}

// Start-up: inversify 8 is ESM-only and costs ~150 ms to load file by file through require(esm).
// One CommonJS bundle of it in dist/node_modules is found first by every require('inversify') from
// dist/ (core, drivers and plugins alike), so they share one copy and the CLI starts faster.
const esbuild = require('esbuild');
for (const [name, entry] of [['inversify', 'node_modules/inversify/lib/index.js']]) {
  const out = path.join(dist, 'node_modules', name);
  fs.mkdirSync(out, { recursive: true });
  esbuild.buildSync({ entryPoints: [path.join(top, entry)], bundle: true, format: 'cjs', platform: 'node', target: 'node20', outfile: path.join(out, 'index.js'), logLevel: 'error' });
  fs.writeFileSync(path.join(out, 'package.json'), JSON.stringify({ name, main: 'index.js', private: true }));
}

// Native parts: each drivers/<name>/native.mk builds into dist/drivers/<name>/.
for (const name of fs.readdirSync(path.join(top, 'drivers'))) {
  const mk = path.join(top, 'drivers', name, 'native.mk');
  if (fs.existsSync(mk)) run('make', ['-s', '-f', mk, `OUT=${path.join(dist, 'drivers', name)}`], { cwd: path.dirname(mk) });
}
