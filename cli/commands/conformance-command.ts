import * as fs from 'node:fs';
import type { CommandModule } from 'yargs';
import { action, type GlobalArgs } from '../command-kit';
import { runConformance, conformanceMarkdown, type ConformanceReport } from '../../core/conformance/run-conformance';
import { CONFORMANCE_CASES } from '../../core/conformance/cases';
import { ensureDefaultRootfs } from '../../core/rootfs/busybox-rootfs';
import { chosenDrivers } from '../driver-list';
import { printJson, printTable } from '../output';
import { Progress } from '../progress';

interface ConformanceArgs extends GlobalArgs {
  drivers?: string;
  format: 'text' | 'json' | 'markdown';
  output?: string;
  cases?: string;
}

export const conformanceCommand: CommandModule<GlobalArgs, ConformanceArgs> = {
  command: 'conformance',
  describe: 'Run the conformance cases on each available driver and print the feature x driver matrix',
  builder: (y) =>
    y
      .option('drivers', { type: 'string', describe: 'comma-separated drivers (default: every available one)' })
      .option('cases', { type: 'string', describe: 'comma-separated case ids (default: all)' })
      .option('format', { alias: 'f', choices: ['text', 'json', 'markdown'] as const, default: 'text' as const })
      .option('output', { alias: 'o', type: 'string', describe: 'write the report to this file instead of stdout' }) as never,
  handler: action<ConformanceArgs>(false, async (argv, ctx) => {
    const registry = ctx.registry();
    const drivers = await chosenDrivers(ctx, argv.drivers);
    const rootfs = await ensureDefaultRootfs();
    const cases = argv.cases ? CONFORMANCE_CASES.filter((c) => argv.cases!.split(',').includes(c.id)) : CONFORMANCE_CASES;
    const total = drivers.length * cases.length;
    const progress = new Progress(`conformance 0/${total}`, 0).start();
    let done = 0;
    const results = await runConformance(ctx.manager(), drivers, rootfs, (r) => {
      done += 1;
      progress.update(`conformance ${done}/${total}: ${r.driver} ${r.caseId} ${r.outcome}`);
    }, cases);
    progress.stop();
    const summaries = await registry.summaries();
    const report: ConformanceReport = {
      date: new Date().toISOString(),
      drivers: summaries
        .filter((s) => !argv.drivers || argv.drivers.split(',').includes(s.name))
        .map((s) => ({ name: s.name, available: s.fingerprint.available && drivers.some((d) => d.driver.name === s.name), ...(s.fingerprint.version ? { version: s.fingerprint.version } : {}), ...(s.fingerprint.reason ? { reason: s.fingerprint.reason } : {}) })),
      results,
    };
    const write = (text: string) => (argv.output ? fs.writeFileSync(argv.output, text) : process.stdout.write(text));
    if (argv.format === 'json') {
      if (argv.output) write(`${JSON.stringify(report, null, 2)}\n`);
      else printJson(report);
    } else if (argv.format === 'markdown') {
      write(conformanceMarkdown(report, cases));
    } else {
      const names = drivers.map((d) => d.driver.name);
      const cell = (n: string, id: string) => results.find((r) => r.driver === n && r.caseId === id)?.outcome.replace('failed', 'FAILED') ?? '-';
      printTable(['case', ...names], cases.map((c) => [c.id, ...names.map((n) => cell(n, c.id))]));
      for (const r of results.filter((x) => x.outcome === 'failed')) process.stdout.write(`FAILED ${r.driver} ${r.caseId}: ${r.detail}\n`);
    }
    return results.some((r) => r.outcome === 'failed') ? 1 : 0;
  }),
};
