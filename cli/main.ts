#!/usr/bin/env node
/** The `berth` CLI: global options, the command list, and usage errors. */
import 'reflect-metadata';
import yargs, { type Argv } from 'yargs';
import { runCommand } from './commands/run-command';
import { createCommand } from './commands/create-command';
import { startCommand, pauseCommand, resumeCommand } from './commands/lifecycle-commands';
import { stateCommand } from './commands/state-command';
import { killCommand } from './commands/kill-command';
import { deleteCommand } from './commands/delete-command';
import { listCommand } from './commands/list-command';
import { execCommand } from './commands/exec-command';
import { logsCommand } from './commands/logs-command';
import { statsCommand } from './commands/stats-command';
import { updateCommand } from './commands/update-command';
import { specCommand } from './commands/spec-command';
import { driversCommand } from './commands/drivers-command';
import { rootfsCommand } from './commands/rootfs-command';
import { compareCommand } from './commands/compare-command';
import { conformanceCommand } from './commands/conformance-command';
import { benchCommand } from './commands/bench-command';
import { networkCommand } from './commands/network-command';
import { EXIT_FAILURE } from './exit-codes';
import type { GlobalArgs } from './command-kit';
import { DEFAULT_STATE_ROOT } from '../core/state/volatile-root';

export async function main(argv: string[]): Promise<void> {
  const base = yargs(argv)
    .scriptName('berth')
    .parserConfiguration({ 'populate--': true })
    .option('root', { type: 'string', default: process.env.BERTH_ROOT ?? DEFAULT_STATE_ROOT, describe: 'state root (the default one is made a tmpfs when it is on disk)', global: true })
    .option('log', { type: 'string', describe: 'log to this file instead of stderr', global: true })
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as const, global: true })
    .option('debug', { type: 'boolean', default: false, describe: 'debug logs and stacks', global: true })
    .option('config', { type: 'string', describe: 'drivers.json overriding the built-in one (or BERTH_CONFIG)', global: true })
    .option('driver', { type: 'string', describe: 'driver for new containers (or BERTH_DRIVER)', global: true });
  await (base as unknown as Argv<GlobalArgs>)
    .command(runCommand)
    .command(createCommand)
    .command(startCommand)
    .command(stateCommand)
    .command(killCommand)
    .command(deleteCommand)
    .command(listCommand)
    .command(execCommand)
    .command(logsCommand)
    .command(pauseCommand)
    .command(resumeCommand)
    .command(statsCommand)
    .command(updateCommand)
    .command(specCommand)
    .command(driversCommand)
    .command(rootfsCommand)
    .command(compareCommand)
    .command(conformanceCommand)
    .command(benchCommand)
    .command(networkCommand)
    .demandCommand(1, 'name a command (berth --help lists them)')
    .strict()
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`berth: ${msg} [USAGE]\n`);
      process.exit(EXIT_FAILURE);
    })
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(120, process.stdout.columns ?? 100))
    .parseAsync();
}

if (require.main === module) void main(process.argv.slice(2));
