import * as crypto from 'node:crypto';
import * as os from 'node:os';
import type { Duplex, Readable } from 'node:stream';
import type Docker from 'dockerode';
import { inject, injectable } from 'inversify';
import {
  BaseDriver,
  BerthError,
  type ContainerRef,
  type ContainerContext,
  type ContainerStats,
  type CreateRequest,
  type DriverHandle,
  type DriverState,
  type ExecRequest,
  type ExecutionDriver,
  type ExitResult,
  type Feature,
  type Fingerprint,
  type JsonValue,
  type LogsRequest,
  type RawBaseline,
  type Resources,
} from '../../core';
import { apiAtLeast, dockerCreateBody } from './docker-create-body';
import { dockerUpdateBody } from './docker-update-body';
import { dockerClient, resolveDockerHost } from './docker-connection';
import type { DockerApi } from './docker-api';
import { dockerError, engineMessage, statusOf } from './docker-error';
import { DockerRefusalError } from './docker-refusal-error';
import { ensureRootfsImage } from './rootfs-image';
import { FrameDemuxer, pumpOutput, writeAll } from './stream-demux';
import { attachBeforeStart, feedStdin, foregroundAttachment } from './docker-attach';

/** drivers.json options of the docker entry (see docker-connection.ts). */
export const DockerDriverOptions = Symbol.for('berth.DockerDriverOptions');
export type DockerDriverOptions = Readonly<Record<string, JsonValue>>;

export interface DockerHandle {
  /** The engine's container id. */
  containerId: string;
  /** The container's name: berth-<id>-<hash of the state folder>, also derivable from an empty handle. */
  name: string;
  /** The engine it lives on (`unix:///var/run/docker.sock`). */
  dockerHost: string;
  image: string;
}

const FEATURES: readonly Feature[] = [
  'process.args',
  'process.env',
  'process.cwd',
  'process.user',
  'process.user.additionalGids',
  'process.terminal',
  'process.capabilities',
  'process.rlimits',
  'process.noNewPrivileges',
  'process.oomScoreAdj',
  'root.readonly',
  'hostname',
  'domainname',
  'namespace.pid',
  'namespace.network',
  'namespace.mount',
  'namespace.ipc',
  'namespace.uts',
  'namespace.cgroup',
  'mount.bind',
  'mount.tmpfs',
  'mount.proc',
  'mount.sysfs',
  'mount.devpts',
  'mount.mqueue',
  'mount.cgroup',
  'mount.readonly',
  'linux.maskedPaths',
  'linux.readonlyPaths',
  'linux.sysctl',
  'linux.seccomp',
  'resources.memory.limit',
  'resources.memory.reservation',
  'resources.memory.swap',
  'resources.memory.swappiness',
  'resources.cpu.shares',
  'resources.cpu.quota',
  'resources.cpu.cpus',
  'resources.cpu.mems',
  'resources.pids',
  'resources.devices',
  'op.exec',
  'op.pause',
  'op.stats',
  'op.update',
  'op.logs',
  'op.recover',
];

/**
 * Runs the bundle on a Docker Engine through its API (dockerode). create = docker create (after
 * importing the rootfs as an image), start = docker start. Docker's containerd-shim supervises the
 * container, so it outlives the CLI; logs of a detached container are Docker's own (json-file).
 */
@injectable()
export class DockerDriver extends BaseDriver implements ExecutionDriver {
  readonly name = 'docker';
  readonly description = 'Docker Engine through its API (dockerode); rootfs imported as an image';
  readonly features: ReadonlySet<Feature> = new Set<Feature>(FEATURES);

  /** `docker run --rm --network none` on the image of the same rootfs: the bench's same-run reference. */
  readonly rawBaseline: RawBaseline = {
    name: 'docker run --rm --network none',
    prepare: async (_workDir, rootfs, args) => {
      const dockerHost = resolveDockerHost(this.options);
      const { image } = await ensureRootfsImage(dockerClient(dockerHost), rootfs);
      return { argv: ['docker', '-H', dockerHost, 'run', '--rm', '--network', 'none', image, ...args] };
    },
  };

  constructor(@inject(DockerDriverOptions) private readonly options: DockerDriverOptions) {
    super();
  }

  async fingerprint(): Promise<Fingerprint> {
    const dockerHost = resolveDockerHost(this.options);
    const docker = dockerClient(dockerHost);
    try {
      const v = await withTimeout(docker.version(), 5000, `no answer from ${dockerHost} within 5 s`);
      if (!apiAtLeast(v.ApiVersion, MIN_API_VERSION)) {
        return {
          available: false,
          reason: `Docker ${v.Version} speaks API ${v.ApiVersion}; berth needs ${MIN_API_VERSION} (Docker 20.10) or later`,
          installHint: 'upgrade the Docker engine',
          version: v.Version,
          health: 'unhealthy',
          attributes: { dockerHost, apiVersion: v.ApiVersion },
        };
      }
      return {
        available: true,
        version: v.Version,
        health: 'healthy',
        attributes: {
          dockerHost,
          apiVersion: v.ApiVersion,
          os: `${v.Os}/${v.Arch}`,
          kernel: v.KernelVersion ?? '',
          supervisor: "containerd-shim (Docker's): containers outlive the CLI",
        },
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason =
        code === 'ENOENT' || code === 'ECONNREFUSED'
          ? `no Docker engine answers at ${dockerHost}`
          : code === 'EACCES'
            ? `permission denied on ${dockerHost}`
            : `Docker engine at ${dockerHost}: ${engineMessage(err)}`;
      return {
        available: false,
        reason,
        installHint: 'apt-get install docker.io and start dockerd; or point DOCKER_HOST or drivers.json options.host at an engine',
        health: code === 'ENOENT' ? 'undetected' : 'unhealthy',
        attributes: { dockerHost },
      };
    }
  }

  async create(request: CreateRequest): Promise<DriverHandle> {
    const dockerHost = resolveDockerHost(request.options);
    const docker = dockerClient(dockerHost);
    const version = await docker.version().catch((err: unknown) => Promise.reject(dockerError(err, 'version')));
    const stdin = request.stdio.kind === 'fds' ? request.stdio.stdin : null;
    const attach = request.stdio.kind === 'fds' ? { stdin: stdin !== null } : undefined;
    const name = containerName(request);
    const labels = { 'org.berth.id': request.id, 'org.berth.state-dir': request.stateDir };
    assertApiVersion(version.ApiVersion, dockerHost);
    // Translate first: a refusal leaves nothing behind, not even an image.
    const body = dockerCreateBody(request.spec, { image: '', apiVersion: version.ApiVersion, hostHostname: os.hostname(), ...(attach ? { attach } : {}), labels });
    const { image } = await ensureRootfsImage(docker, request.spec.root!.path).catch((err: unknown) => Promise.reject(dockerError(err, 'import rootfs')));
    body.Image = image;
    let created: { Id: string; Warnings?: string[] | null };
    try {
      created = await docker.createContainer(name, body);
    } catch (err) {
      if (statusOf(err) === 409) throw new BerthError('CONTAINER_EXISTS', `docker: a container named ${name} already exists`, { cause: err });
      throw dockerError(err, 'create');
    }
    const container = docker.getContainer(created.Id);
    const handle: DockerHandle = { containerId: created.Id, name, dockerHost, image };
    try {
      // A limit the engine discarded would be silently ignored: refuse instead.
      const warnings = created.Warnings ?? [];
      if (warnings.length > 0) throw new BerthError('FEATURE_NOT_SUPPORTED', `docker create: ${warnings.join('; ')}: not supported by driver "docker"`);
      if (request.stdio.kind === 'fds') await attachBeforeStart(container, request.stdio, body.Tty ?? false);
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw dockerError(err, 'attach');
    }
    return { ...handle };
  }

  async start(ref: ContainerRef): Promise<void> {
    try {
      await this.container(ref).start();
    } catch (err) {
      throw dockerError(err, 'start');
    }
  }

  async state(ref: ContainerRef): Promise<DriverState> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.container(ref).inspect();
    } catch (err) {
      if (statusOf(err) === 404) return { status: 'stopped', exitCode: 255 };
      throw dockerError(err, 'inspect');
    }
    const s = info.State;
    const pid = s.Pid > 0 ? { pid: s.Pid } : {};
    if (s.Paused) return { status: 'paused', ...pid };
    switch (s.Status) {
      case 'created':
        return { status: 'created' };
      case 'running':
      case 'restarting':
        return { status: 'running', ...pid };
      default:
        return { status: 'stopped', exitCode: s.ExitCode, ...(s.OOMKilled ? { oomKilled: true } : {}) };
    }
  }

  async wait(ref: ContainerRef): Promise<ExitResult> {
    const handle = this.handle(ref);
    const attachment = foregroundAttachment(handle.containerId);
    attachment?.hold();
    let code: number;
    try {
      code = ((await this.container(ref).wait()) as { StatusCode: number }).StatusCode;
    } catch (err) {
      if (statusOf(err) !== 404) throw dockerError(err, 'wait');
      code = 255;
    }
    // The engine closes the attach stream once the container's output is drained.
    await attachment?.finish(10000);
    const s = await this.state(ref).catch(() => undefined);
    return { exitCode: code, ...(s?.oomKilled ? { oomKilled: true } : {}) };
  }

  async kill(ref: ContainerRef, signal: NodeJS.Signals, all: boolean): Promise<void> {
    if (all) throw new BerthError('OPERATION_NOT_SUPPORTED', 'kill --all: not supported by driver "docker"');
    const s = await this.state(ref);
    if (s.status === 'stopped') return;
    if (s.status === 'created') {
      throw new BerthError('CONTAINER_STATE', `container "${ref.id}" is created: Docker has no process to signal before start (delete it instead)`);
    }
    try {
      await this.container(ref).kill({ signal });
    } catch (err) {
      if (statusOf(err) === 409 && /is not running/.test(engineMessage(err))) return;
      throw dockerError(err, 'kill');
    }
  }

  async delete(ref: ContainerRef, force: boolean): Promise<void> {
    const handle = ref.handle as Partial<DockerHandle>;
    const target = handle.containerId ?? containerName(ref);
    const attachment = handle.containerId ? foregroundAttachment(handle.containerId) : undefined;
    try {
      await this.client(ref).getContainer(target).remove({ force, v: true });
    } catch (err) {
      if (statusOf(err) !== 404) throw dockerError(err, 'remove');
    }
    attachment?.abort();
  }

  override async exec(ref: ContainerRef, request: ExecRequest): Promise<ExitResult> {
    if ((request.user?.additionalGids ?? []).length > 0) {
      throw new DockerRefusalError('exec.user.additionalGids', 'Docker exec takes no supplementary groups of its own');
    }
    const container = this.container(ref);
    const stdin = request.stdio.stdin;
    try {
      const exec = await container.exec({
        Cmd: request.args,
        ...(request.env ? { Env: request.env } : {}),
        ...(request.cwd ? { WorkingDir: request.cwd } : {}),
        ...(request.user ? { User: `${request.user.uid}:${request.user.gid}` } : {}),
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: stdin !== null,
        Tty: request.tty ?? false,
      });
      const stream = (await exec.start({ hijack: true, stdin: stdin !== null, Tty: request.tty ?? false })) as Duplex;
      const done = pumpOutput(stream, request.stdio, request.tty ?? false);
      const stopInput = stdin !== null ? feedStdin(stdin, stream) : undefined;
      await done.finally(() => stopInput?.());
      const info = await exec.inspect();
      return { exitCode: info.ExitCode ?? 255 };
    } catch (err) {
      throw dockerError(err, 'exec');
    }
  }

  override async pause(ref: ContainerRef): Promise<void> {
    await this.container(ref).pause().catch((err: unknown) => Promise.reject(dockerError(err, 'pause')));
  }

  override async resume(ref: ContainerRef): Promise<void> {
    await this.container(ref).unpause().catch((err: unknown) => Promise.reject(dockerError(err, 'unpause')));
  }

  override async stats(ref: ContainerRef): Promise<ContainerStats> {
    let s: Docker.ContainerStats;
    try {
      s = (await this.container(ref).stats({ stream: false, 'one-shot': true } as { stream: false })) as Docker.ContainerStats;
    } catch (err) {
      throw dockerError(err, 'stats');
    }
    const out: ContainerStats = {};
    const mem = s.memory_stats;
    if (mem && mem.usage !== undefined) {
      out.memory = { usageBytes: mem.usage, ...(mem.max_usage ? { maxUsageBytes: mem.max_usage } : {}), ...(mem.limit ? { limitBytes: mem.limit } : {}) };
    }
    const cpu = s.cpu_stats?.cpu_usage;
    if (cpu && cpu.total_usage !== undefined) {
      out.cpu = { usageNanos: cpu.total_usage, userNanos: cpu.usage_in_usermode, systemNanos: cpu.usage_in_kernelmode };
    }
    const pids = s.pids_stats as { current?: number; limit?: number } | undefined;
    if (pids?.current !== undefined) out.pids = { current: pids.current, ...(pids.limit ? { limit: pids.limit } : {}) };
    return out;
  }

  override async update(ref: ContainerRef, resources: Resources): Promise<void> {
    const body = dockerUpdateBody(resources, ref.spec.linux?.resources);
    try {
      const result = (await this.container(ref).update(body)) as { Warnings?: string[] | null };
      if (result?.Warnings && result.Warnings.length > 0) throw new BerthError('FEATURE_NOT_SUPPORTED', `docker update: ${result.Warnings.join('; ')}`);
    } catch (err) {
      throw dockerError(err, 'update');
    }
  }

  /** Docker's own log (json-file): each stream to its own fd (one stream with a terminal). */
  override async logs(ref: ContainerRef, request: LogsRequest): Promise<void> {
    const fds = { stdout: request.stdout, stderr: request.stderr };
    const tty = ref.spec.process?.terminal ?? false;
    try {
      if (request.follow) {
        const stream = (await this.container(ref).logs({ follow: true, stdout: true, stderr: true })) as unknown as Readable;
        await pumpOutput(stream, fds, tty);
      } else {
        const buffer = (await this.container(ref).logs({ follow: false, stdout: true, stderr: true })) as unknown as Buffer;
        if (tty) {
          await writeAll(fds.stdout, buffer);
        } else {
          const demux = new FrameDemuxer(fds);
          demux.push(buffer);
          await demux.flushed();
        }
      }
    } catch (err) {
      throw dockerError(err, 'logs');
    }
  }

  private handle(ref: ContainerRef): DockerHandle {
    const h = ref.handle as Partial<DockerHandle>;
    if (!h.containerId) throw new BerthError('STATE_CORRUPT', `container "${ref.id}": docker handle has no container id`);
    return h as DockerHandle;
  }

  private client(ref: ContainerRef): DockerApi {
    const h = ref.handle as Partial<DockerHandle>;
    return dockerClient(h.dockerHost ?? resolveDockerHost(ref.options));
  }

  private container(ref: ContainerRef): Docker.Container {
    return this.client(ref).getContainer(this.handle(ref).containerId);
  }
}

/**
 * The oldest Engine API the mapping was verified on (Docker 20.10). Older engines would silently
 * ignore fields they do not know (CgroupnsMode, MaskedPaths...), so they are reported unavailable.
 */
export const MIN_API_VERSION = '1.41';

function assertApiVersion(apiVersion: string, dockerHost: string): void {
  if (!apiAtLeast(apiVersion, MIN_API_VERSION)) {
    throw new BerthError('DRIVER_UNAVAILABLE', `docker: the engine at ${dockerHost} speaks API ${apiVersion}; berth needs ${MIN_API_VERSION} or later`);
  }
}

/** berth-<id>-<8 hex of the state folder>: unique per state root, derivable without a handle. */
export function containerName(ctx: Pick<ContainerContext, 'id' | 'stateDir'>): string {
  const suffix = crypto.createHash('sha256').update(ctx.stateDir).digest('hex').slice(0, 8);
  return `berth-${ctx.id}-${suffix}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
