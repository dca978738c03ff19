import type { Argv, CommandModule } from 'yargs';
import { action, type GlobalArgs } from '../command-kit';
import { printJson, printTable } from '../output';
import type { NetworkStore } from '../../core/network/network-store';
import { BerthError } from '../../core/errors/berth-error';

interface NetworkArgs extends GlobalArgs {
  networkDir?: string;
}
interface LsArgs extends NetworkArgs {
  format: 'text' | 'json';
}
interface CreateArgs extends NetworkArgs {
  name: string;
  subnet?: string;
  gateway?: string;
  bridge?: string;
}
interface RmArgs extends NetworkArgs {
  names: string[];
  force: boolean;
}
interface InspectArgs extends NetworkArgs {
  name: string;
}

/** The network store, loaded only when a network command runs (it pulls in inversify and zod). */
function store(argv: NetworkArgs): NetworkStore {
  const { NetworkStore: Store } = require('../../core/network/network-store') as typeof import('../../core/network/network-store');
  const { networkOptionsFromEnv } = require('../../core/network/network-options') as typeof import('../../core/network/network-options');
  const options = networkOptionsFromEnv(process.env);
  return new Store(argv.networkDir ? { ...options, configDir: argv.networkDir } : options);
}

const lsCommand: CommandModule<NetworkArgs, LsArgs> = {
  command: ['ls', 'list'],
  describe: 'List networks: the built-in berth0 and user-defined ones, with their containers',
  builder: (y) => y.option('format', { alias: 'f', choices: ['text', 'json'] as const, default: 'text' as const }) as never,
  handler: action<LsArgs>(false, async (argv) => {
    const s = store(argv);
    const { networks, broken } = s.list();
    const rows = networks.map((n) => ({ ...n.summary, source: n.source, containers: [...new Set(s.leases(n.name).map((l) => l.containerId))] }));
    if (argv.format === 'json') return printJson({ configDir: s.options.configDir, networks: rows, broken });
    printTable(
      ['name', 'driver', 'bridge', 'subnet', 'gateway', 'containers', 'source'],
      [
        ...rows.map((r) => [r.name, r.driver, r.bridge ?? '-', r.subnet ?? '-', r.gateway ?? '-', String(r.containers.length), r.source]),
        ...broken.map((b) => [b.name, '?', '-', '-', '-', '-', `${b.source}: ${b.error}`]),
      ],
    );
  }),
};

const createCommand: CommandModule<NetworkArgs, CreateArgs> = {
  command: 'create <name>',
  describe: 'Create a user-defined bridge network',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'network name (letters, digits, _ . -)' })
      .option('subnet', { type: 'string', describe: 'IPv4 CIDR (default: the first free /24 in 10.78.0.0/16)' })
      .option('gateway', { type: 'string', describe: 'the bridge address (default: the first host of the subnet)' })
      .option('bridge', { type: 'string', describe: 'Linux bridge name (default: berth-NAME)' }) as never,
  handler: action<CreateArgs>(false, async (argv) => {
    const entry = await store(argv).create({
      name: argv.name,
      ...(argv.subnet ? { subnet: argv.subnet } : {}),
      ...(argv.gateway ? { gateway: argv.gateway } : {}),
      ...(argv.bridge ? { bridge: argv.bridge } : {}),
    });
    process.stdout.write(`${entry.name}\n`);
  }),
};

const rmCommand: CommandModule<NetworkArgs, RmArgs> = {
  command: ['rm <names..>', 'remove'],
  describe: 'Remove networks (their file, bridge and IPAM folder); refused while containers use them',
  builder: (y) =>
    y
      .positional('names', { type: 'string', array: true, demandOption: true })
      .option('force', { type: 'boolean', default: false, describe: 'remove even while containers hold addresses on it' }) as never,
  handler: action<RmArgs>(false, async (argv) => {
    const s = store(argv);
    let failed: unknown;
    for (const name of argv.names) {
      try {
        await s.remove(name, argv.force);
        process.stdout.write(`${name}\n`);
      } catch (err) {
        if (failed) process.stderr.write(`berth: ${(failed as Error).message}${failed instanceof BerthError ? ` [${failed.code}]` : ''}\n`);
        failed = err;
      }
    }
    if (failed) throw failed;
  }),
};

const inspectCommand: CommandModule<NetworkArgs, InspectArgs> = {
  command: 'inspect <name>',
  describe: 'Print a network: its CNI configuration list, source and leases (JSON)',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true }) as never,
  handler: action<InspectArgs>(false, async (argv) => {
    const s = store(argv);
    const entry = s.get(argv.name);
    printJson({ name: entry.name, source: entry.source, summary: entry.summary, leases: s.leases(entry.name), config: entry.config });
  }),
};

export const networkCommand: CommandModule<GlobalArgs, NetworkArgs> = {
  command: 'network',
  describe: 'Manage bridge networks (berth network ls|create|rm|inspect)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('network-dir', { type: 'string', describe: 'network folder (default: BERTH_NETWORK_DIR or /etc/berth/networks)' })
      .command(lsCommand as never)
      .command(createCommand as never)
      .command(rmCommand as never)
      .command(inspectCommand as never)
      .demandCommand(1, 'name a network command: ls, create, rm or inspect') as never,
  handler: () => undefined,
};
