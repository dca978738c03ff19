/**
 * Shared set-up for the drivers' networking tests through the built CLI: a state root, a
 * private network folder and port-reservation folder, host snapshots (test/network/host-snapshot.ts)
 * narrowed to what one container made, and bounded HTTP.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { berth, type CliResult } from '../helpers/run-cli';
import { tempStateRoot } from '../helpers/busybox-fixture';
import { hostSnapshot, leftovers, type HostSnapshot } from './host-snapshot';

export const IPAM_DIR = '/var/lib/cni/networks';

export interface NetEnv {
  root: string;
  env: NodeJS.ProcessEnv;
  /** berth's port reservations (`<BERTH_NETWORK_STATE_DIR>/ports`). */
  portsDir: string;
  cli: (args: string[], timeoutMs?: number) => CliResult;
  /** A CNI plugin folder whose `firewall` sleeps in ADD (to kill a CLI in the middle of attach). */
  cniWrapper: () => CniWrapper;
  cleanup: () => void;
}

export interface CniWrapper {
  /** BERTH_CNI_PATH pointing at the wrapper folder. */
  env: NodeJS.ProcessEnv;
  /** The pid of the sleeping ADD, once one runs. */
  sleeping: () => number | undefined;
  cleanup: () => void;
}

const PLUGIN_DIR = '/usr/lib/cni';

function cniWrapper(): CniWrapper {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cni-'));
  const pidFile = path.join(dir, 'sleeping.pid');
  for (const p of fs.readdirSync(PLUGIN_DIR)) if (p !== 'firewall') fs.symlinkSync(path.join(PLUGIN_DIR, p), path.join(dir, p));
  const script = `#!/bin/sh\nif [ "$CNI_COMMAND" = ADD ]; then echo $$ > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; exec sleep 60; fi\nexec ${PLUGIN_DIR}/firewall "$@"\n`;
  fs.writeFileSync(path.join(dir, 'firewall'), script, { mode: 0o755 });
  return {
    env: { BERTH_CNI_PATH: dir },
    sleeping: () => {
      try {
        return Number(fs.readFileSync(pidFile, 'utf8').trim()) || undefined;
      } catch {
        return undefined;
      }
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export function netEnv(): NetEnv {
  const state = tempStateRoot();
  const netDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-networks-'));
  const netState = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-network-state-'));
  const env = { BERTH_NETWORK_DIR: netDir, BERTH_NETWORK_STATE_DIR: netState };
  return {
    root: state.root,
    env,
    portsDir: path.join(netState, 'ports'),
    cli: (args, timeoutMs) => berth(args, { root: state.root, env, ...(timeoutMs ? { timeoutMs } : {}) }),
    cniWrapper,
    cleanup: () => {
      state.cleanup();
      fs.rmSync(netDir, { recursive: true, force: true });
      fs.rmSync(netState, { recursive: true, force: true });
    },
  };
}

/** A random unprivileged host port, unlikely to clash with other tests. */
export const randomPort = (): number => 20000 + crypto.randomInt(20000);

/** What the CNI plugins name after a container: bridge's masquerade chain, portmap's DNAT chain. */
export function chainNames(network: string, id: string): string[] {
  const hash = crypto.createHash('sha512').update(network + id).digest('hex');
  return [`CNI-${hash}`.slice(0, 28), `CNI-DN-${hash}`.slice(0, 28)];
}

/** What one container made on the host, from its record (or, half-created, from its lease). */
export interface Mine {
  ids: string[];
  ips: string[];
  links: string[];
  networks: string[];
  chains: string[];
}

export function emptyMine(): Mine {
  return { ids: [], ips: [], links: [], networks: [], chains: [] };
}

/** Add a container: its id, chains, addresses and host-side interfaces (from record.json or leases). */
export function addContainer(mine: Mine, root: string, id: string, network = 'berth0'): void {
  mine.ids.push(id);
  mine.chains.push(...chainNames(network, id));
  const file = path.join(root, id, 'record.json');
  const record = (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {}) as {
    handle?: { network?: { ips?: string[]; interfaces?: { name: string; sandbox?: string }[] } };
  };
  const net = record.handle?.network;
  for (const ip of net?.ips ?? []) mine.ips.push(ip.split('/')[0]!);
  for (const i of net?.interfaces ?? []) if (!i.sandbox && i.name.startsWith('veth')) mine.links.push(i.name);
  for (const ip of leasesOf(id, network)) if (!mine.ips.includes(ip)) mine.ips.push(ip);
}

/** Addresses host-local leases to `id` on `network`. */
export function leasesOf(id: string, network = 'berth0'): string[] {
  const dir = path.join(IPAM_DIR, network);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^[0-9.]+$/.test(f))
    .filter((f) => {
      try {
        return fs.readFileSync(path.join(dir, f), 'utf8').split(/\r?\n/)[0] === id;
      } catch {
        return false;
      }
    });
}

export interface Snapshot {
  host: HostSnapshot;
  ports: string[];
}

export async function snapshot(env: NetEnv): Promise<Snapshot> {
  const ports = fs.existsSync(env.portsDir) ? fs.readdirSync(env.portsDir).filter((f) => f !== '.lock') : [];
  return { host: await hostSnapshot(), ports };
}

/** Does a snapshot line belong to what `mine` lists? */
function ours(line: string, mine: Mine): boolean {
  if (mine.ids.some((id) => line.includes(id))) return true;
  if (mine.chains.some((c) => line.includes(c))) return true;
  if (mine.ips.some((ip) => line.includes(`${ip}/`) || line.endsWith(`/${ip}`) || line.includes(`${ip}:`))) return true;
  if (mine.links.some((l) => line === `link ${l}`)) return true;
  if (mine.networks.some((n) => line.includes(`"${n}\\"`) || line.startsWith(`lease ${n}/`) || line === `link berth-${n}`)) return true;
  return /^netns berth-gc-/.test(line); // a stand-in namespace outlived its DEL
}

/** Things present in `after` but not in `before` that belong to `mine`, plus any port reservation left. */
export function left(before: Snapshot, after: Snapshot, mine: Mine): string[] {
  const host = leftovers(before.host, after.host).filter((l) => ours(l, mine));
  const ports = after.ports.filter((p) => !before.ports.includes(p)).map((p) => `port reservation ${p}`);
  return [...host, ...ports];
}

/** The same filter on a snapshot taken while the containers live: proves the filter sees them. */
export function present(before: Snapshot, during: Snapshot, mine: Mine): string[] {
  return left(before, during, mine);
}

/** GET `url` with bounded tries (each `timeoutMs`); resolves the body of the first 200. */
export async function httpGet(url: string, tries = 20, timeoutMs = 1000): Promise<string> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`GET ${url}: ${(last as Error)?.message ?? last} after ${tries} tries`);
}

/** The host's first non-loopback IPv4 address that is not on a container bridge or veth. */
export function hostAddress(): string | undefined {
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (/^(lo|berth|veth|docker|virbr|lxc|vb-|br-|cni)/.test(name)) continue;
    const a = (addrs ?? []).find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  return undefined;
}

/** Poll `cond` every 100 ms for at most `ms`. */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}
