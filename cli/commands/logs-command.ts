import type { CommandModule } from 'yargs';
import { action, type GlobalArgs } from '../command-kit';

interface LogsArgs extends GlobalArgs {
  id: string;
  follow?: boolean;
}

export const logsCommand: CommandModule<GlobalArgs, LogsArgs> = {
  command: 'logs <id>',
  describe: "Print a detached container's stdout and stderr (each to its own stream)",
  builder: (y) => y.positional('id', { type: 'string', demandOption: true }).option('follow', { alias: 'f', type: 'boolean' }) as never,
  handler: action<LogsArgs>(false, async (argv, ctx) => {
    await ctx.manager().logs(argv.id, { follow: argv.follow ?? false, stdout: 1, stderr: 2 });
  }),
};
