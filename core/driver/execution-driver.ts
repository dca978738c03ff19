/**
 * The ExecutionDriver contract: what every backend implements. The core drives it through the OCI
 * lifecycle (creating -> created -> running <-> paused -> stopped) and never branches on a driver's
 * name, only on its declared features.
 *
 * A driver keeps no state of its own between calls: everything it needs to find a container again
 * lives in the opaque `handle` it returns from `create`, which the core stores in the container
 * record and hands back on every later call (so a new process, or a new driver instance, can re-adopt
 * the container: Nomad's RecoverTask, podman's per-container runtime record).
 */
import type { Feature } from './features';
import type { OciStatus, Resources, Spec } from '../spec/oci-spec';

export const ExecutionDriver = Symbol.for('berth.ExecutionDriver');

/** JSON-serialisable data; a driver's handle must be made of it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type DriverHandle = { [key: string]: JsonValue };

export interface Fingerprint {
  /** The backend is installed and usable by this process. */
  available: boolean;
  /** Why not, when unavailable (one line). */
  reason?: string;
  /** How to make it available (`apt-get install lxc`). */
  installHint?: string;
  /** The backend's own version, when known. */
  version?: string;
  /** healthy: works; degraded: works with limits (see reason); unhealthy: detected but failing. */
  health: 'healthy' | 'degraded' | 'unhealthy' | 'undetected';
  /** Free-form facts: isolation level, cgroup version, socket path... */
  attributes: Record<string, string>;
}

/**
 * Where the container's stdio goes. `fds`: file descriptors owned by the caller (the CLI's own
 * 0/1/2 for a foreground run, or files/pipes an API user opened); the driver must deliver stdout and
 * stderr to them separately. `log`: the container runs detached and the driver keeps its output for
 * `logs`. stdin `null` means /dev/null.
 */
export type StdioTarget =
  | { kind: 'fds'; stdin: number | null; stdout: number; stderr: number }
  | { kind: 'log' };

/** What the core gives a driver about one container on every call. */
export interface ContainerContext {
  id: string;
  /** Absolute bundle folder (holds config.json, maybe the rootfs). */
  bundle: string;
  /** The validated spec, with root.path made absolute. */
  spec: Spec;
  /** A folder owned by this container's record, for the driver's files (logs, pid files, sockets). */
  stateDir: string;
  /** Driver options from drivers.json. */
  options: Readonly<Record<string, JsonValue>>;
}

export interface CreateRequest extends ContainerContext {
  stdio: StdioTarget;
}

/** Handle-bearing context for every call after create. */
export interface ContainerRef extends ContainerContext {
  handle: DriverHandle;
}

export interface DriverState {
  status: OciStatus;
  /** Host pid of the container's init while it exists. */
  pid?: number;
  /** Exit code once stopped (128+signal when killed by a signal). */
  exitCode?: number;
  /** Set when the kernel's OOM killer ended the container. */
  oomKilled?: boolean;
}

export interface ExitResult {
  exitCode: number;
  /** The signal that ended it, if any (`SIGKILL`). */
  signal?: string;
  oomKilled?: boolean;
}

export interface ExecRequest {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  tty?: boolean;
  stdio: { stdin: number | null; stdout: number; stderr: number };
}

export interface ContainerStats {
  memory?: { usageBytes: number; maxUsageBytes?: number; limitBytes?: number; oomEvents?: number };
  cpu?: { usageNanos: number; userNanos?: number; systemNanos?: number };
  pids?: { current: number; limit?: number };
}

export interface LogsRequest {
  follow: boolean;
  stdout: number;
  stderr: number;
}

/**
 * How to run a process with the raw backend tool, without berth (`runc run`, `lxc-execute`,
 * `systemd-nspawn`, `virsh create`, `docker run`): the benchmark's same-run reference.
 */
export interface RawBaseline {
  /** Label in reports, e.g. `runc run`. */
  name: string;
  /** Prepare once (write a bundle, import an image...); returns the argv for one run of `args`. */
  prepare(workDir: string, rootfs: string, args: string[]): Promise<{ argv: string[]; env?: NodeJS.ProcessEnv }>;
  /** Undo `prepare`. */
  cleanup?(workDir: string): Promise<void>;
}

export interface ExecutionDriver {
  /** Unique name, the key used in drivers.json and stored in records. */
  readonly name: string;
  /** One-line description for `berth drivers`. */
  readonly description: string;
  /** Everything this driver honours. Anything else is refused before create. */
  readonly features: ReadonlySet<Feature>;

  fingerprint(): Promise<Fingerprint>;

  /**
   * Bring the container to `created`: isolation set up, the init ready but the user's process not
   * yet run (OCI create). Must leave nothing behind when it throws.
   */
  create(request: CreateRequest): Promise<DriverHandle>;
  /** Run the user's process (OCI start). */
  start(ref: ContainerRef): Promise<void>;
  state(ref: ContainerRef): Promise<DriverState>;
  /** Resolve when the container's init has exited. */
  wait(ref: ContainerRef): Promise<ExitResult>;
  /** Send a signal to the init, or with `all` to every process of the container. */
  kill(ref: ContainerRef, signal: NodeJS.Signals, all: boolean): Promise<void>;
  /** Remove every trace. `force` kills a live container first. Idempotent. */
  delete(ref: ContainerRef, force: boolean): Promise<void>;

  exec(ref: ContainerRef, request: ExecRequest): Promise<ExitResult>;
  pause(ref: ContainerRef): Promise<void>;
  resume(ref: ContainerRef): Promise<void>;
  stats(ref: ContainerRef): Promise<ContainerStats>;
  update(ref: ContainerRef, resources: Resources): Promise<void>;
  logs(ref: ContainerRef, request: LogsRequest): Promise<void>;
  /** Re-adopt a container after the CLI or a daemon restarted; may return a refreshed handle. */
  recover(ref: ContainerRef): Promise<DriverHandle>;
  /** Optional: the raw backend tool to benchmark this driver against. */
  readonly rawBaseline?: RawBaseline;
}
