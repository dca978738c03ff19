import type { CommandModule } from 'yargs';
import { action, parseSignal, type GlobalArgs } from '../command-kit';

interface KillArgs extends GlobalArgs {
  id: string;
  signal?: string;
  all?: boolean;
}

export const killCommand: CommandModule<GlobalArgs, KillArgs> = {
  command: 'kill <id> [signal]',
  describe: 'Send a signal (default SIGTERM) to the container init, or with --all to every process',
  builder: (y) =>
    y
      .positional('id', { type: 'string', demandOption: true })
      .positional('signal', { type: 'string', describe: 'KILL, SIGKILL or 9' })
      .option('all', { alias: 'a', type: 'boolean', describe: 'signal every process of the container' }) as never,
  handler: action<KillArgs>(false, async (argv, ctx) => {
    await ctx.manager().kill(argv.id, parseSignal(argv.signal), argv.all ?? false);
  }),
};
