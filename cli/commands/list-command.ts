import type { CommandModule } from 'yargs';
import { action, type GlobalArgs } from '../command-kit';
import { printJson, printTable } from '../output';

interface ListArgs extends GlobalArgs {
  format: 'text' | 'json';
  quiet?: boolean;
}

export const listCommand: CommandModule<GlobalArgs, ListArgs> = {
  command: 'list',
  aliases: ['ps', 'ls'],
  describe: 'List containers with their driver and live status',
  builder: (y) =>
    y
      .option('format', { alias: 'f', choices: ['text', 'json'] as const, default: 'text' as const })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'ids only' }) as never,
  handler: action<ListArgs>(false, async (argv, ctx) => {
    const all = await ctx.manager().list();
    if (argv.format === 'json') return printJson(all);
    if (argv.quiet) return void process.stdout.write(all.map((c) => `${c.id}\n`).join(''));
    printTable(
      ['id', 'driver', 'pid', 'status', 'bundle', 'created'],
      all.map((c) => [c.id, c.driver, String(c.pid ?? 0), c.status + (c.exitCode !== undefined ? ` (${c.exitCode})` : ''), c.bundle, c.created]),
    );
  }),
};
