import type { CommandModule } from 'yargs';
import { action, type GlobalArgs } from '../command-kit';
import { printJson, printTable } from '../output';

interface StatsArgs extends GlobalArgs {
  id: string;
  format: 'text' | 'json';
}

export const statsCommand: CommandModule<GlobalArgs, StatsArgs> = {
  command: 'stats <id>',
  describe: 'One-shot resource usage: memory, CPU, pids',
  builder: (y) => y.positional('id', { type: 'string', demandOption: true }).option('format', { alias: 'f', choices: ['text', 'json'] as const, default: 'text' as const }) as never,
  handler: action<StatsArgs>(false, async (argv, ctx) => {
    const s = await ctx.manager().stats(argv.id);
    if (argv.format === 'json') return printJson(s);
    const mib = (n?: number) => (n === undefined ? '-' : `${(n / 1048576).toFixed(1)}MiB`);
    printTable(
      ['id', 'mem usage', 'mem limit', 'cpu seconds', 'pids'],
      [[argv.id, mib(s.memory?.usageBytes), mib(s.memory?.limitBytes), s.cpu ? (s.cpu.usageNanos / 1e9).toFixed(3) : '-', s.pids ? String(s.pids.current) : '-']],
    );
  }),
};
