/**
 * berth-nspawn-supervisor on its own (no nspawn): the stop until start, the state files, exit codes
 * and signals, the readiness pipe, and the cgroup join of exec. Needs `npm run build`.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pollUntil } from '../../../core';
import { readNumberFile, release, STATE_FILES } from '../../../drivers/nspawn/nspawn-supervisor';
import { processState } from '../../../core/util/processes';
import { tempStateRoot } from '../../helpers/busybox-fixture';

const BINARY = path.resolve(__dirname, '../../../dist/drivers/nspawn/berth-nspawn-supervisor');
const state = tempStateRoot();
let n = 0;
const launched: number[] = [];

afterAll(() => {
  // A failed test can leave a supervisor stopped: end every one this file started (by pid).
  for (const pid of launched) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  state.cleanup();
});

function stateDir(): string {
  const dir = path.join(state.root, `s${n++}`);
  fs.mkdirSync(dir);
  return dir;
}

/** Start the supervisor detached on `argv`, as the driver does; returns its pid. */
function launch(dir: string, argv: string[], joins: string[] = []): number {
  const child = spawn(BINARY, ['--state', dir, ...joins.flatMap((j) => ['--join', j]), '--', ...argv], { detached: true, stdio: 'ignore' });
  child.unref();
  launched.push(child.pid!);
  return child.pid!;
}

const exitOf = (dir: string) => pollUntil(() => readNumberFile(dir, STATE_FILES.exit), 10000, 'the exit file', 5);

describe('berth-nspawn-supervisor', () => {
  it('is built', () => {
    expect(fs.existsSync(BINARY)).toBe(true);
  });

  it('stops itself until released, then runs the command and records its pid and exit code', async () => {
    const dir = stateDir();
    const pid = launch(dir, ['/bin/sh', '-c', 'echo $$ > "$0/child"; exit 7', dir]);
    await pollUntil(() => (processState(pid) === 'T' ? true : undefined), 10000, 'the supervisor to stop', 5);
    await new Promise((r) => setTimeout(r, 50));
    // Nothing ran: the state files are made, empty, and only supervisor.pid has content.
    expect(fs.readdirSync(dir).sort()).toEqual(['exit', 'go', 'nspawn.pid', 'running', 'supervisor.pid']);
    expect(readNumberFile(dir, 'supervisor.pid')).toBe(pid);
    for (const f of ['exit', 'go', 'nspawn.pid', 'running']) expect(fs.readFileSync(path.join(dir, f), 'utf8')).toBe('');
    expect(release(dir, pid)).toBe(true);
    expect(await exitOf(dir)).toBe(7);
    expect(readNumberFile(dir, STATE_FILES.nspawnPid)).toBe(Number(fs.readFileSync(path.join(dir, 'child'), 'utf8')));
    expect(fs.readFileSync(path.join(dir, STATE_FILES.exit), 'utf8')).toBe('7\n');
  });

  it('does not stop when STATE/go is there already', async () => {
    const dir = stateDir();
    fs.writeFileSync(path.join(dir, 'go'), '1');
    const pid = launch(dir, ['/bin/true']);
    expect(await exitOf(dir)).toBe(0);
    expect(readNumberFile(dir, 'supervisor.pid')).toBe(pid);
  });

  it('records 128+N for a command killed by signal N, and 127 for one that does not exist', async () => {
    const killed = stateDir();
    fs.writeFileSync(path.join(killed, 'go'), '1');
    launch(killed, ['/bin/sh', '-c', 'kill -TERM $$']);
    expect(await exitOf(killed)).toBe(143);
    const missing = stateDir();
    fs.writeFileSync(path.join(missing, 'go'), '1');
    launch(missing, ['/nonexistent/berth']);
    expect(await exitOf(missing)).toBe(127);
  });

  it('writes STATE/running when the readiness fd gets "R" and closes, and not otherwise', async () => {
    const ok = stateDir();
    fs.writeFileSync(path.join(ok, 'go'), '1');
    // "R", then fd 3 closes (as the helper's exec of the user's command closes it), then the command runs on.
    launch(ok, ['/bin/sh', '-c', 'printf R >&3; exec 3>&-; while [ ! -e "$0/done" ]; do sleep 0.01; done', ok]);
    expect(await pollUntil(() => readNumberFile(ok, STATE_FILES.running), 10000, 'STATE/running', 5)).toBe(1);
    expect(readNumberFile(ok, STATE_FILES.exit)).toBeUndefined();
    fs.writeFileSync(path.join(ok, 'done'), '');
    expect(await exitOf(ok)).toBe(0);
    const failed = stateDir();
    fs.writeFileSync(path.join(failed, 'go'), '1');
    launch(failed, ['/bin/sh', '-c', 'printf R! >&3; exec 3>&-; sleep 0.2; exit 127']);
    expect(await exitOf(failed)).toBe(127);
    expect(readNumberFile(failed, STATE_FILES.running)).toBeUndefined(); // made empty, never written
    // Closed without a word (a helper or nspawn that does not pass the fd on): not running either.
    const silent = stateDir();
    fs.writeFileSync(path.join(silent, 'go'), '1');
    launch(silent, ['/bin/sh', '-c', 'exec 3>&-; sleep 0.2']);
    expect(await exitOf(silent)).toBe(0);
    expect(readNumberFile(silent, STATE_FILES.running)).toBeUndefined();
  });

  it('exits 125 without running anything when it cannot join a cgroup', () => {
    const dir = stateDir();
    fs.writeFileSync(path.join(dir, 'go'), '1');
    const r = spawnSync(BINARY, ['--state', dir, '--join', path.join(dir, 'no/cgroup.procs'), '--', '/bin/true'], { encoding: 'utf8' });
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^berth-nspawn-supervisor: join cgroup: .*no\/cgroup\.procs: No such file or directory/);
    expect(readNumberFile(dir, 'nspawn.pid')).toBeUndefined(); // made empty, never written
    expect(readNumberFile(dir, 'exit')).toBeUndefined();
  });

  it('joins, then execs the command in its join mode (exec)', () => {
    const dir = stateDir();
    const procs = path.join(dir, 'procs');
    fs.writeFileSync(procs, '');
    const r = spawnSync(BINARY, ['--join', procs, '--', '/bin/sh', '-c', 'exit 3'], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(fs.readFileSync(procs, 'utf8')).toBe('0'); // "0": the writing process itself
    expect(spawnSync(BINARY, ['--join', path.join(dir, 'none'), '--', '/bin/true']).status).toBe(125);
  });
});
