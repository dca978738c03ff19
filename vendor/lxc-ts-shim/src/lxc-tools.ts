/**
 * LXC's command-line tools, each run with an argument array against one lxcpath. Outputs become
 * typed results, failures LxcCommandError carrying LXC's own message.
 */
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { runTool } from './run-tool';
import { parseInfo, type LxcInfo, type LxcState } from './parse-info';
import { LxcCommandError } from './lxc-error';

export interface LxcToolsOptions {
  /** The `-P` folder (must exist). */
  lxcpath: string;
  /** Where the lxc-* binaries are; default: found on PATH. */
  binDir?: string;
}

export interface LogOptions {
  file?: string;
  level?: 'TRACE' | 'DEBUG' | 'INFO' | 'NOTICE' | 'WARN' | 'ERROR' | 'CRIT' | 'ALERT' | 'FATAL';
  quiet?: boolean;
}

export interface AttachOptions {
  command: string[];
  /** Replace the environment with exactly these NAME=VALUE entries (`--clear-env` + `-v`). */
  env?: string[];
  uid?: number;
  gid?: number;
  stdio: { stdin: number | 'ignore'; stdout: number; stderr: number };
}

export interface ToolExit {
  exitCode: number;
  signal?: NodeJS.Signals;
}

export class LxcTools {
  readonly lxcpath: string;
  private readonly binDir?: string;

  constructor(options: LxcToolsOptions) {
    this.lxcpath = options.lxcpath;
    this.binDir = options.binDir;
  }

  tool(name: string): string {
    return this.binDir ? path.join(this.binDir, name) : name;
  }

  private common(name: string, log?: LogOptions): string[] {
    const argv = ['-n', name, '-P', this.lxcpath];
    if (log?.file) argv.push('-o', log.file);
    if (log?.level) argv.push('-l', log.level);
    if (log?.quiet) argv.push('-q');
    return argv;
  }

  /**
   * `lxc-execute`: runs `command` under LXC's own init (PID 1), which keeps the tool's stdio and
   * returns the exit code. `configFile` undefined: no `-f` (the caller adds it, or LXC's default).
   */
  executeArgv(name: string, configFile: string | undefined, command: readonly string[], log?: LogOptions): string[] {
    return [this.tool('lxc-execute'), ...this.common(name, log), ...(configFile !== undefined ? ['-f', configFile] : []), '--', ...command];
  }

  /** `lxc-start`: `-F` foreground (console on the tool's stdio) or `-d` daemonized under LXC's monitor. */
  startArgv(name: string, configFile: string, mode: 'foreground' | 'daemon', log?: LogOptions): string[] {
    return [this.tool('lxc-start'), ...this.common(name, log), '-f', configFile, mode === 'foreground' ? '-F' : '-d'];
  }

  async version(): Promise<string> {
    const r = await runTool([this.tool('lxc-info'), '--version']);
    return r.stdout.trim();
  }

  async info(name: string): Promise<LxcInfo> {
    const r = await runTool([this.tool('lxc-info'), ...this.common(name)]);
    return parseInfo(r.stdout);
  }

  /** True while LXC knows a container `name` in this lxcpath. */
  async exists(name: string): Promise<boolean> {
    const r = await runTool([this.tool('lxc-info'), ...this.common(name), '-s'], { allowFailure: true });
    return r.exitCode === 0;
  }

  async stop(name: string, options: { kill?: boolean; timeoutSec?: number } = {}): Promise<void> {
    const argv = [this.tool('lxc-stop'), ...this.common(name)];
    if (options.kill) argv.push('-k');
    if (options.timeoutSec !== undefined) argv.push('-t', String(options.timeoutSec));
    await runTool(argv);
  }

  async freeze(name: string): Promise<void> {
    await runTool([this.tool('lxc-freeze'), ...this.common(name)]);
  }

  async unfreeze(name: string): Promise<void> {
    await runTool([this.tool('lxc-unfreeze'), ...this.common(name)]);
  }

  /** `lxc-cgroup NAME FILE`: the value of one controller file of the container's cgroup. */
  async cgroupGet(name: string, file: string): Promise<string> {
    const r = await runTool([this.tool('lxc-cgroup'), ...this.common(name), file]);
    return r.stdout.trim();
  }

  async cgroupSet(name: string, file: string, value: string): Promise<void> {
    await runTool([this.tool('lxc-cgroup'), ...this.common(name), file, value]);
  }

  /** `lxc-wait`: until the container is in one of `states`; throws after `timeoutSec`. */
  async wait(name: string, states: LxcState[], timeoutSec: number): Promise<void> {
    await runTool([this.tool('lxc-wait'), ...this.common(name), '-s', states.join('|'), '-t', String(timeoutSec)]);
  }

  /** `lxc-attach`: run a command in the container (namespaces, cgroup, capability bounding set, LSM). */
  attach(name: string, o: AttachOptions): Promise<ToolExit> {
    const argv = [this.tool('lxc-attach'), ...this.common(name)];
    if (o.env) {
      argv.push('--clear-env');
      for (const e of o.env) argv.push('-v', e);
    }
    if (o.uid !== undefined) argv.push('-u', String(o.uid));
    if (o.gid !== undefined) argv.push('-g', String(o.gid));
    argv.push('--', ...o.command);
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { cwd: '/', stdio: [o.stdio.stdin, o.stdio.stdout, o.stdio.stderr] });
      child.on('error', (e) => reject(new LxcCommandError(argv, null, e.message)));
      child.on('exit', (code, signal) => {
        if (signal) resolve({ exitCode: 128 + (require('node:os') as typeof import('node:os')).constants.signals[signal], signal });
        else resolve({ exitCode: code ?? 255 });
      });
    });
  }
}
