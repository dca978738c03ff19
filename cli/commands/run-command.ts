import * as crypto from 'node:crypto';
import type { CommandModule } from 'yargs';
import { action, commandWords, type GlobalArgs } from '../command-kit';
import { withRunFlags, specFromFlags, type RunFlagArgs } from '../run-flags';
import { BerthError } from '../../core/errors/berth-error';
import type { StdioTarget } from '../../core/driver/execution-driver';

interface RunArgs extends GlobalArgs, RunFlagArgs {
  name?: string;
  detach?: boolean;
  rm?: boolean;
  interactive?: boolean;
  tty?: boolean;
  command?: string[];
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export function newContainerId(): string {
  return crypto.randomBytes(6).toString('hex');
}

export const runCommand: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run [command..]',
  describe: 'Create and start a container, stream its output and exit with its exit code',
  builder: (y) =>
    withRunFlags(y)
      .positional('command', { type: 'string', array: true, describe: 'command and arguments (after --)' })
      .option('name', { type: 'string', describe: 'container id (default: random)' })
      .option('detach', { alias: 'd', type: 'boolean', describe: 'run in the background and print the id' })
      .option('rm', { type: 'boolean', describe: 'delete the container when it exits' })
      .option('interactive', { alias: 'i', type: 'boolean', describe: 'keep stdin attached' })
      .option('tty', { alias: 't', type: 'boolean', describe: 'allocate a terminal (process.terminal)' })
      .example('$0 run -- /bin/sh -c "echo hi"', 'run on the default driver and busybox rootfs')
      .example('$0 run --driver chroot --rootfs ./rootfs -- id', 'run through a chosen driver') as never,
  handler: action<RunArgs>(true, async (argv, ctx) => {
    if (argv.rm && argv.detach) throw new BerthError('INVALID_ARGUMENT', '--rm cannot be combined with --detach: berth has no daemon to delete it later');
    const { driver } = await ctx.chooseDriver();
    const source = await specFromFlags(argv, commandWords(argv), driver.features, ctx.log);
    const manager = ctx.manager();
    const id = argv.name ?? newContainerId();
    const stdio: StdioTarget = argv.detach ? { kind: 'log' } : { kind: 'fds', stdin: argv.interactive ? 0 : null, stdout: 1, stderr: 2 };
    await manager.create({ id, bundle: source.bundle ?? manager.store.dir(id), spec: source.spec, driver, stdio });
    try {
      await manager.start(id);
    } catch (err) {
      await manager.delete(id, true).catch(() => undefined);
      throw err;
    }
    if (argv.detach) {
      process.stdout.write(`${id}\n`);
      return 0;
    }
    const forward = (signal: NodeJS.Signals) => void manager.kill(id, signal, false).catch(() => undefined);
    for (const s of FORWARDED) process.on(s, forward);
    try {
      const result = await manager.wait(id);
      return result.exitCode;
    } finally {
      for (const s of FORWARDED) process.off(s, forward);
      if (argv.rm) await manager.delete(id, true);
    }
  }),
};
