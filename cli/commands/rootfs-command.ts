import type { CommandModule } from 'yargs';
import { action, type GlobalArgs } from '../command-kit';
import { buildBusyboxRootfs } from '../../core/rootfs/busybox-rootfs';
import { withProgress } from '../progress';

interface RootfsArgs extends GlobalArgs {
  kind: 'busybox';
  dir: string;
}

export const rootfsCommand: CommandModule<GlobalArgs, RootfsArgs> = {
  command: 'rootfs <kind> <dir>',
  describe: "Build a minimal rootfs (busybox: from the host's busybox-static)",
  builder: (y) =>
    y.positional('kind', { choices: ['busybox'] as const, demandOption: true }).positional('dir', { type: 'string', demandOption: true }) as never,
  handler: action<RootfsArgs>(false, async (argv) => {
    await withProgress(`building ${argv.dir}`, async () => buildBusyboxRootfs(argv.dir));
  }),
};
