/**
 * Network conformance cases: host, bridge and published ports (`none` is in cases.ts). Traffic
 * goes only to the container's own addresses and the host's loopback, bounded in count and time.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { NamespaceType, Spec } from '../spec/oci-spec';
import type { ConformanceCase } from './conformance-case';
import { BERTH_ANNOTATIONS } from '../spec/berth-annotations';

function ensureNamespace(spec: Spec, type: NamespaceType): void {
  spec.linux = spec.linux ?? {};
  const list = (spec.linux.namespaces = spec.linux.namespaces ?? []);
  if (!list.some((ns) => ns.type === type)) list.push({ type });
}

function ensureProc(spec: Spec): void {
  if (!(spec.mounts ?? []).some((m) => m.destination === '/proc')) {
    ensureNamespace(spec, 'pid');
    ensureNamespace(spec, 'mount');
    spec.mounts = [...(spec.mounts ?? []), { destination: '/proc', type: 'proc', source: 'proc' }];
  }
}

function bridge(spec: Spec, publish?: { hostPort: number; containerPort: number }): void {
  ensureNamespace(spec, 'network');
  spec.annotations = { ...spec.annotations, [BERTH_ANNOTATIONS.network]: 'bridge' };
  if (publish) {
    spec.annotations[BERTH_ANNOTATIONS.publish] = JSON.stringify([{ hostIp: '', ...publish, protocol: 'tcp' }]);
  }
}

/** Interface names from /proc/net/dev output. */
function interfaces(dev: string): string[] {
  return dev.split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean);
}

function httpGet(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export const NETWORK_CASES: readonly ConformanceCase[] = [
  {
    kind: 'process', id: 'network.host', title: "host networking shares the host's network namespace", features: ['mount.proc'],
    args: ['readlink', '/proc/self/ns/net'],
    mutate: (s) => {
      ensureProc(s);
      s.linux!.namespaces = (s.linux!.namespaces ?? []).filter((ns) => ns.type !== 'network');
      s.annotations = { ...s.annotations, [BERTH_ANNOTATIONS.network]: 'host' };
    },
    expect: { exitCode: 0, check: (o, env) => (o.stdout.trim() === env.hostNamespace('net') ? undefined : `container net ns ${o.stdout.trim()}, host ${env.hostNamespace('net')}`) },
  },
  {
    kind: 'process', id: 'network.bridge', title: 'bridge networking gives eth0, loopback and a default route', features: ['network.bridge', 'namespace.network', 'mount.proc'],
    args: ['sh', '-c', 'cat /proc/net/dev; echo ---; cat /proc/net/route'],
    mutate: (s) => { ensureProc(s); bridge(s); },
    expect: {
      exitCode: 0,
      check: (o) => {
        const [dev = '', route = ''] = o.stdout.split('---\n');
        const names = interfaces(dev).sort();
        if (names.join(',') !== 'eth0,lo') return `interfaces: ${names.join(',')}`;
        return /^eth0\s+00000000\s/m.test(route) ? undefined : `no default route via eth0: ${JSON.stringify(route)}`;
      },
    },
  },
  {
    kind: 'operation', id: 'network.publish', title: "a published port reaches the container's server from the host", features: ['network.bridge', 'network.publish', 'namespace.network'],
    run: async (h) => {
      const hostPort = 20000 + crypto.randomInt(20000);
      const rootfs = h.spec(['true']).root!.path;
      await h.startDetached(['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc'], (s) => bridge(s, { hostPort, containerPort: 8080 }));
      const want = fs.readFileSync(path.join(rootfs, 'etc/hostname'), 'utf8');
      let last = '';
      for (let i = 0; i < 40; i++) {
        try {
          const body = await httpGet(`http://127.0.0.1:${hostPort}/hostname`, 1000);
          if (body === want) return;
          last = `got ${JSON.stringify(body.slice(0, 100))}`;
        } catch (err) {
          last = (err as Error).message;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`http://127.0.0.1:${hostPort}/hostname did not serve the container's /etc/hostname: ${last}`);
    },
  },
];
