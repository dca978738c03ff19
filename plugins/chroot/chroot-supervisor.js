// @ts-check
/**
 * The chroot driver's per-container supervisor: a detached process that outlives the CLI.
 * It waits on `start.fifo` (OCI create -> start), runs the chrooted command in its own process
 * group, records `init.pid`, then the exit status in `exit.json`, and exits.
 * Usage: node chroot-supervisor.js JOB.json   (JOB: { argv: string[], env: string[], stateDir })
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const os = require('node:os');

const job = JSON.parse(fs.readFileSync(process.argv[2] || '', 'utf8'));
const dir = job.stateDir;
const at = (name) => path.join(dir, name);

/** Write atomically so readers never see half a file. */
function put(name, text) {
  fs.writeFileSync(at(`${name}.tmp`), text);
  fs.renameSync(at(`${name}.tmp`), at(name));
}

for (const sig of ['SIGINT', 'SIGHUP', 'SIGPIPE']) process.on(sig, () => {});
put('ready', String(process.pid));
fs.readFileSync(at('start.fifo')); // blocks until `start` writes and closes

/** @type {Record<string, string>} */
const env = {};
for (const entry of job.env) {
  const eq = entry.indexOf('=');
  env[entry.slice(0, eq)] = entry.slice(eq + 1);
}
const child = spawn(job.argv[0], job.argv.slice(1), { env, stdio: 'inherit', detached: true });
child.on('spawn', () => put('init.pid', String(child.pid)));
child.on('error', (err) => {
  process.stderr.write(`berth chroot: ${err.message}\n`);
  put('exit.json', JSON.stringify({ exitCode: 127 }));
  process.exit(0);
});
child.on('exit', (code, signal) => {
  const signum = signal ? os.constants.signals[signal] : 0;
  put('exit.json', JSON.stringify(signal ? { exitCode: 128 + signum, signal } : { exitCode: code }));
  process.exit(0);
});
