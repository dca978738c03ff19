import * as fs from 'node:fs';
import type { CommandModule } from 'yargs';
import { action, type GlobalArgs } from '../command-kit';
import type { Resources } from '../../core/spec/oci-spec';
import { parseByteSize } from '../../core/spec/byte-size';
import { BerthError } from '../../core/errors/berth-error';

interface UpdateArgs extends GlobalArgs {
  id: string;
  resources?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: number;
  cpusetCpus?: string;
  pidsLimit?: number;
}

export const updateCommand: CommandModule<GlobalArgs, UpdateArgs> = {
  command: 'update <id>',
  describe: 'Change resource limits of a live container',
  builder: (y) =>
    y
      .positional('id', { type: 'string', demandOption: true })
      .option('resources', { alias: 'r', type: 'string', describe: 'OCI linux.resources JSON file ("-" for stdin), as runc update' })
      .option('memory', { alias: 'm', type: 'string' })
      .option('memory-reservation', { type: 'string' })
      .option('memory-swap', { type: 'string' })
      .option('cpus', { type: 'string' })
      .option('cpu-shares', { type: 'number' })
      .option('cpuset-cpus', { type: 'string' })
      .option('pids-limit', { type: 'number' }) as never,
  handler: action<UpdateArgs>(false, async (argv, ctx) => {
    const r: Resources = argv.resources ? JSON.parse(fs.readFileSync(argv.resources === '-' ? 0 : argv.resources, 'utf8')) : {};
    if (argv.memory) r.memory = { ...r.memory, limit: parseByteSize(argv.memory, '--memory') };
    if (argv.memoryReservation) r.memory = { ...r.memory, reservation: parseByteSize(argv.memoryReservation, '--memory-reservation') };
    if (argv.memorySwap) r.memory = { ...r.memory, swap: argv.memorySwap === '-1' ? -1 : parseByteSize(argv.memorySwap, '--memory-swap') };
    if (argv.cpus) r.cpu = { ...r.cpu, quota: Math.round(Number(argv.cpus) * 100000), period: 100000 };
    if (argv.cpuShares !== undefined) r.cpu = { ...r.cpu, shares: argv.cpuShares };
    if (argv.cpusetCpus) r.cpu = { ...r.cpu, cpus: argv.cpusetCpus };
    if (argv.pidsLimit !== undefined) r.pids = { limit: argv.pidsLimit };
    if (Object.keys(r).length === 0) throw new BerthError('INVALID_ARGUMENT', 'update: nothing to change (give a limit flag or --resources)');
    await ctx.manager().update(argv.id, r);
  }),
};
