/** berth compare, conformance and bench through the built CLI (on the drivers available here). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { berth } from '../helpers/run-cli';
import { tempStateRoot } from '../helpers/busybox-fixture';

const state = tempStateRoot();
afterAll(() => state.cleanup());

test('compare runs one spec on each driver; a refusal is shown, not fatal', () => {
  const r = berth(['compare', '--drivers', 'chroot', '--format', 'json', '--', '/bin/sh', '-c', 'echo hi; id -u'], { root: state.root });
  expect(r.code).toBe(0);
  const c = JSON.parse(r.stdout);
  // The compared spec carries the full default isolation: chroot refuses it by field.
  expect(c.runs[0]).toMatchObject({ driver: 'chroot', outcome: 'refused' });
  expect(c.runs[0].message).toMatch(/not supported by driver "chroot"/);
  expect(c.runs[0].refused).toContain('namespace.pid');
  expect(fs.readdirSync(state.root).filter((e) => !e.startsWith('.'))).toEqual([]);
});

test('conformance --format markdown prints the matrix with no failed cell for chroot', () => {
  const r = berth(['conformance', '--drivers', 'chroot', '--cases', 'process.args,stdio-split,resources.memory.limit,op.pause', '--format', 'markdown'], { root: state.root, timeoutMs: 120000 });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/\| process\.args: .* \| honoured \|/);
  expect(r.stdout).toMatch(/\| resources\.memory\.limit: .* \| refused \|/);
  expect(r.stdout).toMatch(/\| op\.pause: .* \| refused \|/);
  expect(r.stdout).not.toMatch(/\| \*\*FAILED\*\* \|/);
});

test('bench writes JSON and SVG and cleans up every container', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  const r = berth(['bench', '--drivers', 'chroot', '--runs', '3', '--count', '5', '--output', out], { root: state.root, timeoutMs: 120000 });
  expect(r.code).toBe(0);
  const json = JSON.parse(fs.readFileSync(path.join(out, 'bench.json'), 'utf8'));
  expect(json.latency[0].driver).toBe('chroot');
  expect(json.latency[0].startToExit.runs).toBe(3);
  expect(json.density[0]).toMatchObject({ driver: 'chroot', count: 5, started: 5, running: 5 });
  expect(json.kernelFloor.runs).toBe(3);
  for (const svg of ['latency.svg', 'density.svg']) expect(fs.readFileSync(path.join(out, svg), 'utf8')).toMatch(/^<svg /);
  expect(fs.readdirSync(state.root).filter((e) => !e.startsWith('.'))).toEqual([]);
  fs.rmSync(out, { recursive: true, force: true });
});
