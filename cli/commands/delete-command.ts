import type { CommandModule } from 'yargs';
import { action, type GlobalArgs } from '../command-kit';

interface DeleteArgs extends GlobalArgs {
  ids: string[];
  force?: boolean;
}

export const deleteCommand: CommandModule<GlobalArgs, DeleteArgs> = {
  command: 'delete <ids..>',
  aliases: ['rm'],
  describe: 'Delete containers and every trace of them (--force kills a live one first)',
  builder: (y) =>
    y
      .positional('ids', { type: 'string', array: true, demandOption: true })
      .option('force', { alias: 'f', type: 'boolean', describe: 'kill if running; also clean half-created or corrupt records' }) as never,
  handler: action<DeleteArgs>(false, async (argv, ctx) => {
    for (const id of argv.ids) await ctx.manager().delete(id, argv.force ?? false);
  }),
};
