#!/usr/bin/env node
/**
 * `npm test`: the whole suite on a fresh machine, doing its own set-up:
 * host packages (scripts/setup-host.sh), node modules (npm ci when missing), the build, every
 * daemon in scripts/daemons/*.sh (started, then stopped by the pid each recorded), then jest.
 * Ends with the plain line `N passed, N failed` from jest's JSON results. Extra args go to jest.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { spawnSync } = require('node:child_process');

const top = path.resolve(__dirname, '..');
const step = (what, cmd, args, opts = {}) => {
  process.stderr.write(`test: ${what}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: top, ...opts });
  if (r.status !== 0) {
    process.stderr.write(`test: ${what} failed (exit ${r.status})\n`);
    process.exit(r.status || 1);
  }
};

step('host packages', 'bash', ['scripts/setup-host.sh']);
if (!fs.existsSync(path.join(top, 'node_modules', '.package-lock.json'))) step('npm ci', 'npm', ['ci', '--no-audit', '--no-fund']);
step('build', process.execPath, ['scripts/build.js']);

const daemonDir = path.join(top, 'scripts', 'daemons');
const daemons = fs.existsSync(daemonDir) ? fs.readdirSync(daemonDir).filter((f) => f.endsWith('.sh')).sort() : [];
const started = [];
const stopAll = () => {
  for (const d of started.reverse()) spawnSync('bash', [path.join(daemonDir, d), 'stop'], { stdio: 'inherit', cwd: top });
  started.length = 0;
};
process.on('SIGINT', () => { stopAll(); process.exit(130); });
process.on('SIGTERM', () => { stopAll(); process.exit(143); });

let code = 1;
try {
  for (const d of daemons) {
    started.push(d);
    step(`start daemon ${d}`, 'bash', [path.join(daemonDir, d), 'start']);
  }
  const results = path.join(os.tmpdir(), `berth-jest-${process.pid}.json`);
  const jest = spawnSync(process.execPath, [path.join(top, 'node_modules/jest/bin/jest.js'), '--runInBand', '--json', `--outputFile=${results}`, ...process.argv.slice(2)], {
    stdio: 'inherit',
    cwd: top,
  });
  code = jest.status ?? 1;
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  try {
    const r = JSON.parse(fs.readFileSync(results, 'utf8'));
    passed = r.numPassedTests;
    failed = r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
    skipped = r.numPendingTests + (r.numTodoTests || 0);
    fs.rmSync(results, { force: true });
  } catch {
    failed = Math.max(failed, 1);
  }
  if (passed + failed === 0) code = code || 1;
  process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
} finally {
  stopAll();
}
process.exit(code);
