/**
 * libvirtd through `virsh`, always with argument arrays. Every call is one short virsh process
 * connected to `uri`; failures become BackendCommandError (argv, exit code, stderr), and a missing
 * domain is told apart so callers can be idempotent. See docs/drivers/libvirt.md for why virsh and
 * not the RPC protocol.
 */
import { spawn } from 'node:child_process';
import { BackendCommandError, runCommand, type CommandResult } from '../../core';

export const VIRSH = 'virsh';

export class VirshClient {
  constructor(readonly uri: string, private readonly binary = VIRSH) {}

  argv(...args: string[]): string[] {
    return [this.binary, '--quiet', '--connect', this.uri, ...args];
  }

  async run(args: string[], allowFailure = false): Promise<CommandResult> {
    return runCommand(this.argv(...args), { allowFailure, env: { ...process.env, LC_ALL: 'C' }, timeoutMs: 60000 });
  }

  /** `virsh create FILE --pass-fds 3,4,...`: `fds` become fds 3, 4, ... of the domain's init, in order. */
  createWithFds(xmlFile: string, fds: readonly number[]): Promise<void> {
    const passed = fds.map((_, i) => String(3 + i)).join(',');
    const argv = this.argv('create', xmlFile, ...(fds.length > 0 ? ['--pass-fds', passed] : []));
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        stdio: ['ignore', 'pipe', 'pipe', ...fds],
        env: { ...process.env, LC_ALL: 'C' },
      });
      const err: Buffer[] = [];
      child.stdout!.resume();
      child.stderr!.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => reject(new BackendCommandError(argv, null, e.message, 'virsh create')));
      child.on('close', (code) => {
        if (code === 0) resolve();
        else reject(new BackendCommandError(argv, code, Buffer.concat(err).toString(), 'virsh create'));
      });
    });
  }

  /** The domain's state word (`running`, `paused`, `shut off`...), or undefined when it does not exist. */
  async domainState(domain: string): Promise<string | undefined> {
    const r = await this.run(['domstate', domain], true);
    if (r.exitCode !== 0) {
      if (isNoDomain(r.stderr)) return undefined;
      throw new BackendCommandError(this.argv('domstate', domain), r.exitCode, r.stderr, 'virsh domstate');
    }
    return r.stdout.trim();
  }

  /** Run a domain command; `true` when done, `false` when the domain does not exist. */
  async onDomain(args: string[]): Promise<boolean> {
    const r = await this.run(args, true);
    if (r.exitCode === 0) return true;
    if (isNoDomain(r.stderr)) return false;
    throw new BackendCommandError(this.argv(...args), r.exitCode, r.stderr, `virsh ${args[0]}`);
  }

  /** `virsh dommemstat`: name -> value in KiB (`actual`, `rss`...). */
  async memoryStats(domain: string): Promise<Record<string, number>> {
    return parsePairs((await this.run(['dommemstat', domain])).stdout, /^(\S+)\s+(\d+)$/);
  }

  /** `virsh cpu-stats --total`: name -> seconds (`cpu_time`, `user_time`, `system_time`). */
  async cpuStats(domain: string): Promise<Record<string, number>> {
    return parsePairs((await this.run(['cpu-stats', domain, '--total'])).stdout, /^\s*(\S+)\s+([0-9.]+) seconds$/);
  }

  /** `virsh version`: { library, hypervisor } versions. */
  async version(): Promise<{ library?: string; hypervisor?: string }> {
    const out = (await this.run(['version'])).stdout;
    return {
      library: /Using library: libvirt (\S+)/.exec(out)?.[1],
      hypervisor: /Running hypervisor: (.+)$/m.exec(out)?.[1]?.trim(),
    };
  }
}

/** virsh's words for "no such domain" (VIR_ERR_NO_DOMAIN and lookup failures). */
export function isNoDomain(stderr: string): boolean {
  return /failed to get domain|Domain not found|domain is not running|no domain with matching/i.test(stderr);
}

function parsePairs(text: string, line: RegExp): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of text.split('\n')) {
    const m = line.exec(l.trim() === '' ? '' : l.replace(/\t/g, ' ').trimEnd());
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}
