/**
 * What a driver calls to give a container its network: one `attach` in create, once the
 * container's network namespace exists, and one `detach` on every teardown path (delete, failed
 * create, delete --force of a half-created container). Drivers whose backend networks containers
 * itself (Docker) map the same NetworkRequest their own way instead.
 */
import { inject, injectable, optional } from 'inversify';
import { BerthError } from '../errors/berth-error';
import type { NetworkRequest } from '../spec/network-annotations';
import { CniExecutor } from './cni/cni-executor';
import { parseCniResult, sandboxInterfaces, type CniResult } from './cni/cni-result';
import type { NetConfList, PortMappingEntry, RuntimeConf } from './cni/cni-types';
import type { NetworkAttachment } from './network-attachment';
import { NetworkStore } from './network-store';
import { netnsIdentity, ownNetnsIdentity } from './named-netns';
import { withStandInNetns } from './stand-in-netns';
import { runCommand } from '../util/run-command';
import { PortReservations } from './port-reservations';
import { Logger, silentLogger } from '../logging/logger';

export const NetworkAttacher = Symbol.for('berth.NetworkAttacher');

export interface NetworkAttacher {
  /**
   * Set up the container's network in `netnsPath` (`/proc/PID/ns/net` or a bind mount of it) as
   * `request` asks: none brings up loopback, bridge adds the network's CNI chain with the published
   * ports, host does nothing. Atomic: on error nothing is left and the error is thrown.
   */
  attach(containerId: string, netnsPath: string, request: NetworkRequest): Promise<NetworkAttachment>;
  /**
   * Tear the attachment down (CNI DEL, reverse order, with the cached result). Works when the
   * namespace is gone (pass undefined or a stale path), and without a record (it then finds the
   * container's leases by id, and takes the published ports from `request`, the spec's request,
   * which portmap needs to find its rules). Idempotent.
   */
  detach(containerId: string, netnsPath: string | undefined, attachment: NetworkAttachment | undefined, request?: NetworkRequest): Promise<void>;
  /** CNI CHECK of a live attachment; throws when a plugin finds it broken. */
  check(attachment: NetworkAttachment, netnsPath?: string): Promise<void>;
}

/** Loopback is its own one-plugin list, as libcni-based runtimes do it. */
export const LOOPBACK_LIST: NetConfList = { cniVersion: '1.0.0', name: 'berth-loopback', plugins: [{ type: 'loopback' }] };

/** The container-side interface of a bridge attachment. */
export const CONTAINER_IFNAME = 'eth0';

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

@injectable()
export class CniNetworkAttacher implements NetworkAttacher {
  constructor(
    @inject(NetworkStore) private readonly store: NetworkStore,
    @inject(CniExecutor) private readonly executor: CniExecutor,
    @inject(Logger) @optional() private readonly log: Logger = silentLogger,
  ) {
    this.ports = new PortReservations(store.options.stateDir, (id, network) => store.leases(network).some((l) => l.containerId === id));
  }

  private readonly ports: PortReservations;

  async attach(containerId: string, netnsPath: string, request: NetworkRequest): Promise<NetworkAttachment> {
    if (!CONTAINER_ID.test(containerId)) throw new BerthError('INVALID_ARGUMENT', `"${containerId}" cannot be a CNI container id`);
    const base: NetworkAttachment = { version: 1, mode: request.mode, containerId, loopback: false, publish: [], ips: [], interfaces: [] };
    if (request.mode === 'host' || request.joinPath) return base;
    const identity = netnsIdentity(netnsPath);
    if (!identity) throw new BerthError('INVALID_ARGUMENT', `network namespace ${netnsPath} does not exist`);
    const own = ownNetnsIdentity();
    if (own && own.dev === identity.dev && own.ino === identity.ino) {
      throw new BerthError('INVALID_ARGUMENT', `${netnsPath} is berth's own (the host's) network namespace: refusing to attach to it`);
    }
    const record: NetworkAttachment = { ...base, netns: { path: netnsPath, ...identity } };
    const entry = request.mode === 'bridge' ? this.store.get(request.network ?? 'berth0') : undefined;
    if (entry && request.publish.length > 0 && !entry.config.plugins.some((p) => p.capabilities?.portMappings)) {
      throw new BerthError('NETWORK_CONFIG_INVALID', `network "${entry.name}" has no plugin with the portMappings capability: it cannot publish ports`);
    }
    if (entry) await this.ports.reserve(containerId, entry.name, request.publish);
    let result: CniResult | undefined;
    try {
      await this.executor.add(LOOPBACK_LIST, { containerId, netns: netnsPath, ifName: 'lo' });
      record.loopback = true;
      if (entry) result = await this.executor.add(entry.config, this.runtime(containerId, netnsPath, request.publish));
    } catch (err) {
      if (record.loopback) await this.executor.del(LOOPBACK_LIST, { containerId, netns: netnsPath, ifName: 'lo' }).catch(() => undefined);
      await this.ports.release(containerId).catch(() => undefined);
      throw err;
    }
    if (!entry || !result) return record;
    const inside = new Set((result.interfaces ?? []).map((i, index) => (i.sandbox ? index : -1)));
    const ips = (result.ips ?? []).filter((ip) => ip.interface === undefined || inside.has(ip.interface));
    return {
      ...record,
      network: entry.name,
      ifName: CONTAINER_IFNAME,
      config: entry.config,
      publish: request.publish,
      result,
      ips: ips.map((ip) => ip.address),
      ...(ips.find((ip) => ip.gateway)?.gateway ? { gateway: ips.find((ip) => ip.gateway)!.gateway! } : {}),
      interfaces: (result.interfaces ?? []).map((i) => ({ name: i.name, ...(i.mac ? { mac: i.mac } : {}), ...(i.sandbox ? { sandbox: i.sandbox } : {}) })),
    };
  }

  async detach(containerId: string, netnsPath: string | undefined, attachment: NetworkAttachment | undefined, request?: NetworkRequest): Promise<void> {
    const records = attachment ? [attachment] : this.recordsFromLeases(containerId, request?.publish ?? []);
    const errors: Error[] = [];
    for (const record of records) {
      try {
        await this.detachOne(record, netnsPath);
      } catch (err) {
        errors.push(err as Error);
      }
    }
    if (errors.length > 0) throw errors[0];
    await this.ports.release(containerId);
  }

  async check(attachment: NetworkAttachment, netnsPath?: string): Promise<void> {
    if (attachment.mode !== 'bridge' || !attachment.config || !attachment.result) return;
    const path = this.livePath(attachment, netnsPath);
    if (!path) throw new BerthError('NETWORK_PLUGIN_FAILED', `container ${attachment.containerId}: its network namespace is gone`);
    await this.executor.check(attachment.config, this.runtime(attachment.containerId, path, attachment.publish, attachment.ifName), parseCniResult(attachment.result, 'attachment record'));
  }

  private async detachOne(record: NetworkAttachment, netnsPath: string | undefined): Promise<void> {
    const live = this.livePath(record, netnsPath);
    const id = record.containerId;
    if (record.mode === 'bridge' && record.config) {
      const cached = record.result ? parseCniResult(record.result, 'attachment record') : undefined;
      const ifName = record.ifName ?? CONTAINER_IFNAME;
      if (live && (await interfaceExists(live, ifName))) {
        await this.executor.del(record.config, this.runtime(id, live, record.publish, ifName), cached);
      } else {
        const addresses = this.stillLeased(record, cached ? sandboxAddresses(cached) : record.ips);
        this.log.debug(`network namespace or ${ifName} of ${id} is gone: DEL through a stand-in namespace`, { addresses });
        await withStandInNetns(ifName, addresses, (standIn) => this.executor.del(record.config!, this.runtime(id, standIn, record.publish, ifName), cached));
      }
    }
    if (record.loopback && live) await this.executor.del(LOOPBACK_LIST, { containerId: id, netns: live, ifName: 'lo' });
  }

  /**
   * The recorded addresses host-local still leases to this container. A DEL that already ran
   * released them; the stand-in then carries no address, so `bridge` does not try to remove its
   * masquerade chain a second time (it would fail on the missing chain). Other IPAM types: all.
   */
  private stillLeased(record: NetworkAttachment, addresses: string[]): string[] {
    const ipam = record.config?.plugins[0]?.ipam as { type?: unknown; dataDir?: unknown } | undefined;
    if (ipam?.type !== 'host-local' || !record.config) return addresses;
    const dir = typeof ipam.dataDir === 'string' ? ipam.dataDir : undefined;
    const held = new Set(this.store.leases(record.config.name, dir).filter((l) => l.containerId === record.containerId).map((l) => l.ip));
    return addresses.filter((a) => held.has(a.split('/')[0]!));
  }

  /** The namespace path to DEL in, when the recorded namespace is still there (same nsfs inode). */
  private livePath(record: NetworkAttachment, netnsPath: string | undefined): string | undefined {
    const candidate = netnsPath ?? record.netns?.path;
    if (!candidate) return undefined;
    const now = netnsIdentity(candidate);
    if (!now) return undefined;
    if (record.netns && (record.netns.dev !== now.dev || record.netns.ino !== now.ino)) return undefined;
    const own = ownNetnsIdentity();
    if (own && own.dev === now.dev && own.ino === now.ino) return undefined;
    return candidate;
  }

  private runtime(containerId: string, netns: string, publish: NetworkAttachment['publish'], ifName = CONTAINER_IFNAME): RuntimeConf {
    const portMappings: PortMappingEntry[] = publish.map((p) => ({
      hostPort: p.hostPort,
      containerPort: p.containerPort,
      protocol: p.protocol,
      ...(p.hostIp ? { hostIP: p.hostIp } : {}),
    }));
    return { containerId, netns, ifName, ...(portMappings.length > 0 ? { capabilityArgs: { portMappings } } : {}) };
  }

  /**
   * Records rebuilt from host-local leases naming this container, for a container whose record was
   * never written (its creator was killed between ADD and saving the handle). Published ports are
   * taken from the spec's request: portmap rebuilds its rules from them to delete them.
   */
  private recordsFromLeases(containerId: string, publish: NetworkAttachment['publish']): NetworkAttachment[] {
    const out: NetworkAttachment[] = [];
    for (const entry of this.store.list().networks) {
      const leases = this.store.leases(entry.name).filter((l) => l.containerId === containerId);
      if (leases.length === 0) continue;
      const prefix = entry.summary.subnet?.split('/')[1] ?? '32';
      const ifName = leases[0]!.ifName || CONTAINER_IFNAME;
      const ips = leases.map((l) => `${l.ip}/${prefix}`);
      out.push({
        version: 1,
        mode: 'bridge',
        containerId,
        network: entry.name,
        ifName,
        loopback: false,
        config: entry.config,
        publish,
        result: {
          cniVersion: '1.0.0',
          interfaces: [{ name: ifName, sandbox: '' }],
          ips: ips.map((address) => ({ address, interface: 0 })),
        },
        ips,
        interfaces: [],
      });
    }
    return out;
  }
}

/** Whether the namespace still holds the attachment's interface (a container may have deleted it). */
async function interfaceExists(netnsPath: string, ifName: string): Promise<boolean> {
  const out = await runCommand(['nsenter', `--net=${netnsPath}`, '--', 'ip', '-o', 'link', 'show', 'dev', ifName], { allowFailure: true, timeoutMs: 10000 });
  return out.exitCode === 0;
}

/** The addresses on the container side of a result (all of them when no interface is marked). */
function sandboxAddresses(result: CniResult): string[] {
  const inside = sandboxInterfaces(result);
  const indexes = new Set(inside.map((i) => (result.interfaces ?? []).indexOf(i)));
  return (result.ips ?? []).filter((ip) => ip.interface === undefined || indexes.has(ip.interface) || inside.length === 0).map((ip) => ip.address);
}
