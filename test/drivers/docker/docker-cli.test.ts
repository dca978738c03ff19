/**
 * The docker driver end to end through the built CLI: each berth command is its own process, so a
 * detached container must outlive the CLI that started it (Docker's containerd-shim supervises it)
 * and every later command must find it from the record alone.
 */
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { berth, CLI } from '../../helpers/run-cli';
import { isRoot, requireBackend } from '../../helpers/backend-gate';
import { testRootfs, tempStateRoot } from '../../helpers/busybox-fixture';
import { TEST_DOCKER_HOST, testDocker, testDriver, testId } from './docker-test-env';

let rootfs = '';
let available = false;
const state = tempStateRoot();
const docker = testDocker();
// The CLI reaches the test engine through the standard variable, as a user's shell would.
const run = (args: string[]) => berth(args, { root: state.root, env: { DOCKER_HOST: TEST_DOCKER_HOST } });
const leftovers = () => fs.readdirSync(state.root).filter((e) => !e.startsWith('.'));
const byId = async (id: string) => docker.listContainers({ all: true, filters: { label: [`org.berth.id=${id}`] } });

beforeAll(async () => {
  available = (await requireBackend(testDriver())).available && isRoot;
  rootfs = await testRootfs();
});
afterAll(() => {
  for (const id of leftovers()) run(['delete', '--force', id]);
  state.cleanup();
});

function live(name: string, fn: () => Promise<void> | void): void {
  test(name, async () => {
    if (!available) return;
    await fn();
  }, 90000);
}

live('run: stdout and stderr apart, the exit code, and --rm leaves no container', async () => {
  const id = testId();
  const r = run(['run', '--rm', '--name', id, '--driver', 'docker', '--rootfs', rootfs, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  expect(leftovers()).toEqual([]);
  expect(await byId(id)).toEqual([]);
});

live('run -i: piped stdin reaches the container and ends with it', () => {
  const r = berth(['run', '-i', '--rm', '--driver', 'docker', '--rootfs', rootfs, '--', 'sh', '-c', 'cat; echo done >&2'], {
    root: state.root,
    env: { DOCKER_HOST: TEST_DOCKER_HOST },
    input: 'line 1\nline 2\n',
  });
  expect(r).toEqual({ code: 0, stdout: 'line 1\nline 2\n', stderr: 'done\n' });
});

live('run -i from a terminal returns when the container exits, without waiting for input', async () => {
  // util-linux script(1) gives the CLI a pty as stdin; script's own stdin stays open with no input,
  // so the CLI must stop reading its terminal by itself once the container has exited.
  const cmd = [process.execPath, CLI, '--root', state.root, 'run', '-i', '--rm', '--driver', 'docker', '--rootfs', rootfs, '--', 'echo', 'in-container'];
  const child = spawn('script', ['-qec', cmd.map((a) => `'${a}'`).join(' '), '/dev/null'], {
    env: { ...process.env, DOCKER_HOST: TEST_DOCKER_HOST },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20000));
  const outcome = await Promise.race([exited, timer]);
  child.stdin.end();
  if (outcome === 'timeout') child.kill('SIGKILL');
  expect(outcome).toBe(0);
  expect(stdout).toBe('in-container\r\n');
});

live('run -d: the container outlives the CLI; logs, exec, pause, stats, update, kill and delete each from a new process', async () => {
  const id = testId();
  const started = run(['run', '-d', '--name', id, '--driver', 'docker', '--rootfs', rootfs, '--', 'sh', '-c', 'echo hello; echo oops >&2; exec sleep 300']);
  expect(started).toEqual({ code: 0, stdout: `${id}\n`, stderr: '' });
  // The CLI process has exited: the engine still runs the container.
  const [listed] = await byId(id);
  expect(listed?.State).toBe('running');
  expect(JSON.parse(run(['state', id]).stdout)).toMatchObject({ id, status: 'running', driver: 'docker' });

  let logs = run(['logs', id]);
  for (let i = 0; i < 30 && logs.stderr === ''; i++) {
    await new Promise((r) => setTimeout(r, 100));
    logs = run(['logs', id]);
  }
  expect(logs).toEqual({ code: 0, stdout: 'hello\n', stderr: 'oops\n' });

  expect(run(['exec', id, '--', 'sh', '-c', 'echo x; echo y >&2; exit 6'])).toEqual({ code: 6, stdout: 'x\n', stderr: 'y\n' });
  expect(run(['pause', id]).code).toBe(0);
  expect(JSON.parse(run(['state', id]).stdout).status).toBe('paused');
  expect(run(['resume', id]).code).toBe(0);
  expect(run(['update', id, '--memory', '48m']).code).toBe(0);
  const stats = JSON.parse(run(['stats', id, '--format', 'json']).stdout);
  expect(stats.memory.limitBytes).toBe(48 * 1048576);
  expect(stats.pids.current).toBeGreaterThanOrEqual(1);
  expect(run(['kill', id, 'KILL']).code).toBe(0);
  for (let i = 0; i < 50 && JSON.parse(run(['state', id]).stdout).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 100));
  expect(JSON.parse(run(['state', id]).stdout)).toMatchObject({ status: 'stopped', exitCode: 137 });
  expect(run(['delete', id]).code).toBe(0);
  expect(await byId(id)).toEqual([]);
  expect(leftovers()).toEqual([]);
});

live('berth drivers reports the engine version and API version', () => {
  const r = run(['drivers', '--format', 'json']);
  const d = JSON.parse(r.stdout).drivers.find((x: { name: string }) => x.name === 'docker');
  expect(d.fingerprint).toMatchObject({ available: true, health: 'healthy', attributes: { dockerHost: TEST_DOCKER_HOST } });
  expect(d.fingerprint.attributes.apiVersion).toMatch(/^1\.\d+$/);
});

live('an engine that does not answer makes the driver unavailable with the reason and a hint', () => {
  const r = berth(['run', '--driver', 'docker', '--rootfs', rootfs, '--', 'true'], { root: state.root, env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/driver "docker" is unavailable: no Docker engine answers at unix:\/\/\/nonexistent\/docker.sock \(apt-get install docker.io/);
  expect(leftovers()).toEqual([]);
});
