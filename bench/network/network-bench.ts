#!/usr/bin/env node
/**
 * Networking bench (root): attach + detach of one namespace on the default bridge with a published
 * port, through berth's NetworkAttacher, against the same CNI plugins run raw (each binary spawned
 * directly with its config on stdin and the previous result chained by hand) in the same run,
 * interleaved. Medians of >= 20 runs; JSON on stdout.
 *
 *   node dist/bench/network/network-bench.js [--runs 20]
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { createNamedNetns, createNetworkAttacher, deleteNamedNetns, networkOptionsFromEnv, bridgeConfList, DEFAULT_BRIDGE_NETWORK } from '../../core/network';
import { sampleStats, timed } from '../lib/sample-stats';

const PLUGIN_DIR = '/usr/lib/cni';

function rawPlugin(type: string, command: 'ADD' | 'DEL', id: string, netns: string, ifName: string, conf: object): string {
  const r = spawnSync(`${PLUGIN_DIR}/${type}`, [], {
    input: JSON.stringify(conf),
    env: { ...process.env, CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: ifName, CNI_PATH: PLUGIN_DIR },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${type} ${command}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** The same chain as berth0 (loopback, then bridge + portmap + firewall), by hand. */
function rawAttachDetach(id: string, netns: string, hostPort: number): void {
  const list = bridgeConfList({ ...DEFAULT_BRIDGE_NETWORK });
  const portMappings = [{ hostPort, containerPort: 80, protocol: 'tcp' }];
  const conf = (p: object, prev?: unknown) => ({ ...p, cniVersion: list.cniVersion, name: list.name, ...(prev ? { prevResult: prev } : {}), runtimeConfig: { portMappings } });
  rawPlugin('loopback', 'ADD', id, netns, 'lo', { cniVersion: '1.0.0', name: 'lo', type: 'loopback' });
  let prev: unknown;
  for (const p of list.plugins) prev = JSON.parse(rawPlugin(p.type, 'ADD', id, netns, 'eth0', conf(p, prev)));
  for (const p of [...list.plugins].reverse()) rawPlugin(p.type, 'DEL', id, netns, 'eth0', conf(p, prev));
  rawPlugin('loopback', 'DEL', id, netns, 'lo', { cniVersion: '1.0.0', name: 'lo', type: 'loopback' });
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = Math.max(20, runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20);
  const { attacher } = createNetworkAttacher(networkOptionsFromEnv());
  const name = `berth-bench-${crypto.randomBytes(3).toString('hex')}`;
  const netns = await createNamedNetns(name);
  const api: number[] = [];
  const raw: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const hostPort = 40000 + i;
      api.push(await timed(async () => {
        const id = `bench-api-${i}-${crypto.randomBytes(2).toString('hex')}`;
        const record = await attacher.attach(id, netns, { mode: 'bridge', network: 'berth0', publish: [{ hostPort, containerPort: 80, protocol: 'tcp' }] });
        await attacher.detach(id, netns, record);
      }));
      raw.push(await timed(async () => rawAttachDetach(`bench-raw-${i}-${crypto.randomBytes(2).toString('hex')}`, netns, hostPort + 1000)));
    }
  } finally {
    await deleteNamedNetns(name);
  }
  const a = sampleStats(api);
  const r = sampleStats(raw);
  process.stdout.write(`${JSON.stringify({
    bench: 'network attach+detach (loopback + bridge/host-local + portmap + firewall, one published port)',
    runs,
    berthApi: a,
    rawPlugins: r,
    overheadMedianMs: Math.round((a.medianMs - r.medianMs) * 10) / 10,
  }, null, 2)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`network-bench: ${err.message}\n`);
  process.exit(1);
});
