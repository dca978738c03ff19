import type { CommandModule } from 'yargs';
import { action, type GlobalArgs } from '../command-kit';
import { printJson } from '../output';

interface StateArgs extends GlobalArgs {
  id: string;
}

export const stateCommand: CommandModule<GlobalArgs, StateArgs> = {
  command: 'state <id>',
  describe: 'Print the OCI state JSON of a container (with berth\'s driver, exitCode)',
  builder: (y) => y.positional('id', { type: 'string', demandOption: true }) as never,
  handler: action<StateArgs>(false, async (argv, ctx) => {
    printJson(await ctx.manager().state(argv.id));
  }),
};
