/**
 * Host ports published by berth containers, so a second container (or a host process already
 * listening) cannot silently take a port: portmap itself adds DNAT rules without checking, and the
 * first matching rule would win. One file per published port in `<stateDir>/ports/`, holding the
 * owner; an entry whose owner holds no lease on its network any more is stale and taken over.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { BerthError } from '../errors/berth-error';
import { withFileLock } from '../state/file-lock';
import { formatPublish, type PortPublish } from '../spec/network-annotations';

interface Reservation {
  containerId: string;
  network: string;
  publish: PortPublish;
}

export class PortReservations {
  private readonly dir: string;

  /** `ownerAlive(containerId, network)`: whether the owner still holds a lease there. */
  constructor(stateDir: string, private readonly ownerAlive: (containerId: string, network: string) => boolean) {
    this.dir = path.join(stateDir, 'ports');
  }

  /** Reserve every port or none; refuses ports held by another container or bound on the host. */
  async reserve(containerId: string, network: string, publish: readonly PortPublish[]): Promise<void> {
    if (publish.length === 0) return;
    fs.mkdirSync(this.dir, { recursive: true });
    await withFileLock(path.join(this.dir, '.lock'), async () => {
      const current = this.read().filter((r) => r.containerId !== containerId);
      for (const p of publish) {
        const clash = current.find((r) => overlaps(r.publish, p));
        if (clash && this.ownerAlive(clash.containerId, clash.network)) {
          throw new BerthError('INVALID_ARGUMENT', `host port ${formatPublish(p)} is already published by container ${clash.containerId}`);
        }
        if (clash) fs.rmSync(this.file(clash.publish), { force: true });
        await assertHostPortFree(p);
      }
      for (const p of publish) fs.writeFileSync(this.file(p), JSON.stringify({ containerId, network, publish: p }));
    });
  }

  /** Drop every reservation of the container (idempotent). */
  async release(containerId: string): Promise<void> {
    if (!fs.existsSync(this.dir)) return;
    await withFileLock(path.join(this.dir, '.lock'), async () => {
      for (const r of this.read()) if (r.containerId === containerId) fs.rmSync(this.file(r.publish), { force: true });
    });
  }

  private file(p: PortPublish): string {
    return path.join(this.dir, `${p.protocol}-${p.hostPort}-${p.hostIp || 'any'}`);
  }

  private read(): Reservation[] {
    const out: Reservation[] = [];
    for (const f of fs.readdirSync(this.dir)) {
      if (f.startsWith('.')) continue;
      try {
        out.push(JSON.parse(fs.readFileSync(path.join(this.dir, f), 'utf8')) as Reservation);
      } catch {
        fs.rmSync(path.join(this.dir, f), { force: true });
      }
    }
    return out;
  }
}

function overlaps(a: PortPublish, b: PortPublish): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (!a.hostIp || !b.hostIp || a.hostIp === b.hostIp);
}

/** A host process already bound to the port would be shadowed by the DNAT rule: refuse instead. */
async function assertHostPortFree(p: PortPublish): Promise<void> {
  const host = p.hostIp || undefined;
  const inUse = await new Promise<boolean>((resolve) => {
    if (p.protocol === 'tcp') {
      const server = net.createServer();
      server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
      server.listen({ port: p.hostPort, ...(host ? { host } : {}), exclusive: true }, () => server.close(() => resolve(false)));
    } else {
      const socket = dgram.createSocket(host?.includes(':') ? 'udp6' : 'udp4');
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
      socket.bind({ port: p.hostPort, ...(host ? { address: host } : {}), exclusive: true }, () => socket.close(() => resolve(false)));
    }
  });
  if (inUse) throw new BerthError('INVALID_ARGUMENT', `host port ${formatPublish(p)} is in use by a process on the host`);
}
