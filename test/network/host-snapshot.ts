/**
 * Before/after pictures of what CNI networking touches on the host: interfaces (`ip -o link`), the
 * nat and filter tables (`iptables-save`), named namespaces and host-local leases. `leftovers`
 * returns what appeared in between and was made by CNI or berth, minus the plugins' shared
 * infrastructure that they create once and never delete by design (portmap's CNI-HOSTPORT-*
 * chains, the firewall plugin's CNI-FORWARD/CNI-ADMIN chains) and the default network's bridge.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCommand } from '../../core/util/run-command';

export interface HostSnapshot {
  links: Set<string>;
  rules: Set<string>;
  netns: Set<string>;
  leases: Set<string>;
}

const IPAM_DIR = '/var/lib/cni/networks';

/** Shared, container-independent objects the CNI plugins keep once created. */
const SHARED_INFRASTRUCTURE: RegExp[] = [
  /^nat :CNI-HOSTPORT-(DNAT|MASQ|SETMARK|SNAT) /,
  /^nat -A (PREROUTING|OUTPUT) -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT$/,
  /^nat -A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ$/,
  /^nat -A CNI-HOSTPORT-MASQ -m mark --mark 0x2000\/0x2000 -j MASQUERADE$/,
  /^nat -A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000\/0x2000$/,
  /^filter :CNI-(FORWARD|ADMIN) /,
  /^filter -A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD$/,
  /^filter -A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN$/,
  /^link berth0$/,
];

async function tableLines(table: string): Promise<string[]> {
  const out = await runCommand(['iptables-save', '-t', table]);
  return out.stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && l !== 'COMMIT' && !l.startsWith('*'))
    .map((l) => `${table} ${l.replace(/ \[\d+:\d+\]$/, '')}`);
}

export async function hostSnapshot(): Promise<HostSnapshot> {
  const links = (await runCommand(['ip', '-o', 'link', 'show'])).stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n);
  const netns = fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : [];
  const leases: string[] = [];
  for (const network of fs.existsSync(IPAM_DIR) ? fs.readdirSync(IPAM_DIR) : []) {
    for (const f of fs.readdirSync(path.join(IPAM_DIR, network))) {
      if (/^[0-9.]+$|:/.test(f)) leases.push(`${network}/${f}`);
    }
  }
  return {
    links: new Set(links),
    rules: new Set([...(await tableLines('nat')), ...(await tableLines('filter'))]),
    netns: new Set(netns),
    leases: new Set(leases),
  };
}

/** What one test made: other work on the machine may attach containers at the same time. */
export interface MadeByTest {
  ids: Set<string>;
  ips: Set<string>;
  /** Host interfaces and named namespaces. */
  links: Set<string>;
  networks: Set<string>;
}

/** Does a leftover line belong to what the test made? */
function belongs(line: string, mine: MadeByTest): boolean {
  for (const id of mine.ids) if (line.includes(`"${id}\\"`) || line.includes(`id: \\"${id}\\"`) || line.endsWith(` ${id}`)) return true;
  for (const ip of mine.ips) if (line.includes(`${ip}/`) || line.includes(`${ip}:`) || line.endsWith(`/${ip}`)) return true;
  for (const l of mine.links) if (line === `link ${l}` || line === `netns ${l}`) return true;
  for (const n of mine.networks) if (line.includes(`name: \\"${n}\\"`) || line.startsWith(`lease ${n}/`)) return true;
  return false;
}

/**
 * CNI- and berth-made things present after but not before (shared infrastructure excepted); with
 * `mine`, only those belonging to the test (ids, addresses, veths, networks), so concurrent
 * containers of other tests on berth0 do not count.
 */
export function leftovers(before: HostSnapshot, after: HostSnapshot, mine?: MadeByTest): string[] {
  const added = (a: Set<string>, b: Set<string>, kind: string) => [...b].filter((x) => !a.has(x)).map((x) => (kind ? `${kind} ${x}` : x));
  const all = [
    ...added(before.links, after.links, 'link').filter((l) => /^link (veth[0-9a-f]{8}|berth)/.test(l)),
    ...added(before.rules, after.rules, '').filter((r) => /CNI|berth/.test(r)),
    ...added(before.netns, after.netns, 'netns').filter((n) => /berth/.test(n)),
    ...added(before.leases, after.leases, 'lease'),
  ];
  return all.filter((x) => !SHARED_INFRASTRUCTURE.some((re) => re.test(x))).filter((x) => !mine || belongs(x, mine));
}
