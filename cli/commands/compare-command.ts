import type { CommandModule } from 'yargs';
import { action, commandWords, type GlobalArgs } from '../command-kit';
import { withRunFlags, specFromFlags, type RunFlagArgs } from '../run-flags';
import { compareDrivers, lineDiff, type Comparison } from '../../core/compare/compare-drivers';
import { chosenDrivers } from '../driver-list';
import { printJson, printTable } from '../output';
import { BerthError } from '../../core/errors/berth-error';

interface CompareArgs extends GlobalArgs, RunFlagArgs {
  drivers?: string;
  format: 'text' | 'json';
  command?: string[];
}

export const compareCommand: CommandModule<GlobalArgs, CompareArgs> = {
  command: 'compare [command..]',
  describe: 'Run the same spec through several drivers and compare output, timing, memory and features',
  builder: (y) =>
    withRunFlags(y)
      .positional('command', { type: 'string', array: true })
      .option('drivers', { type: 'string', describe: 'comma-separated drivers (default: every available one)' })
      .option('format', { alias: 'f', choices: ['text', 'json'] as const, default: 'text' as const })
      .example("$0 compare -- /bin/sh -c 'echo hi; id -u; hostname'", 'every available driver') as never,
  handler: action<CompareArgs>(true, async (argv, ctx) => {
    const drivers = (await chosenDrivers(ctx, argv.drivers)).map((d) => d.driver);
    if (drivers.length === 0) throw new BerthError('DRIVER_UNAVAILABLE', 'no available driver to compare');
    // One spec for every driver: the full default isolation, not trimmed to any driver.
    const source = await specFromFlags({ hostname: 'berth-compare', ...argv }, commandWords(argv), undefined, ctx.log);
    const comparison = await compareDrivers(ctx.manager(), drivers, source.spec, (driver, phase) => {
      if (process.stderr.isTTY || argv.debug) process.stderr.write(`compare: ${driver}: ${phase}\n`);
    });
    if (argv.format === 'json') return printJson(comparison);
    printComparison(comparison);
  }),
};

function printComparison(c: Comparison): void {
  const runs = c.runs;
  const ms = (n?: number) => (n === undefined ? '-' : `${n} ms`);
  const mib = (n?: number) => (n === undefined ? '-' : `${(n / 1048576).toFixed(1)} MiB`);
  const ran = runs.filter((r) => r.outcome === 'ran');
  const sameAsFirst = (key: 'stdout' | 'stderr', r: (typeof runs)[number]) =>
    r.outcome !== 'ran' ? '-' : r[key] === ran[0]?.[key] ? 'same' : 'DIFFERS';
  printTable(['', ...runs.map((r) => r.driver)], [
    ['outcome', ...runs.map((r) => r.outcome)],
    ['exit code', ...runs.map((r) => (r.exitCode === undefined ? '-' : String(r.exitCode)))],
    ['stdout', ...runs.map((r) => sameAsFirst('stdout', r))],
    ['stderr', ...runs.map((r) => sameAsFirst('stderr', r))],
    ['create to running', ...runs.map((r) => ms(r.createToRunningMs))],
    ['total', ...runs.map((r) => ms(r.totalMs))],
    ['peak memory', ...runs.map((r) => mib(r.peakMemoryBytes))],
    ['features honoured', ...runs.map((r) => String(r.honoured.length))],
    ['features refused', ...runs.map((r) => (r.refused.length ? r.refused.join(' ') : '-'))],
  ]);
  const out: string[] = [];
  if (ran[0]) out.push('', `stdout of ${ran[0].driver}:`, ...(ran[0].stdout ?? '').trimEnd().split('\n').map((l) => `  ${l}`));
  for (const r of ran.slice(1)) {
    for (const key of ['stdout', 'stderr'] as const) {
      if (r[key] !== ran[0]![key]) out.push('', `${key} diff ${ran[0]!.driver} -> ${r.driver}:`, ...lineDiff(ran[0]![key] ?? '', r[key] ?? '').map((l) => `  ${l}`));
    }
  }
  for (const r of runs.filter((x) => x.outcome !== 'ran')) out.push('', `${r.driver}: ${r.message}`);
  process.stdout.write(`${out.join('\n')}\n`);
}
