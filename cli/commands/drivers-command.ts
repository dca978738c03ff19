import type { CommandModule } from 'yargs';
import { action, type GlobalArgs } from '../command-kit';
import { printJson, printTable } from '../output';
import { withProgress } from '../progress';

interface DriversArgs extends GlobalArgs {
  format: 'text' | 'json';
}

export const driversCommand: CommandModule<GlobalArgs, DriversArgs> = {
  command: 'drivers',
  describe: 'List every registered driver: available or not and why, version, declared features',
  builder: (y) => y.option('format', { alias: 'f', choices: ['text', 'json'] as const, default: 'text' as const }) as never,
  handler: action<DriversArgs>(false, async (argv, ctx) => {
    const registry = ctx.registry();
    const summaries = await withProgress('fingerprinting drivers', () => registry.summaries());
    if (argv.format === 'json') return printJson({ config: registry.config.sources, preference: registry.config.preference, drivers: summaries });
    printTable(
      ['driver', 'available', 'version', 'features', 'note'],
      summaries.map((s) => [
        s.name,
        s.fingerprint.available ? 'yes' : 'no',
        s.fingerprint.version ?? '-',
        String(s.features.length),
        s.fingerprint.available ? (s.description ?? '') : `${s.fingerprint.reason ?? ''}${s.fingerprint.installHint ? ` (${s.fingerprint.installHint})` : ''}`,
      ]),
    );
  }),
};
