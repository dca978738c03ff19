import * as fs from 'node:fs';
import type { CommandModule } from 'yargs';
import { action, commandWords, type GlobalArgs } from '../command-kit';
import { withRunFlags, specFromFlags, type RunFlagArgs } from '../run-flags';
import type { StdioTarget } from '../../core/driver/execution-driver';

interface CreateArgs extends GlobalArgs, RunFlagArgs {
  id: string;
  pidFile?: string;
  inheritStdio?: boolean;
}

export const createCommand: CommandModule<GlobalArgs, CreateArgs> = {
  command: 'create <id>',
  describe: 'Create a container (OCI create): isolated and ready, its process not yet started',
  builder: (y) =>
    withRunFlags(y)
      .positional('id', { type: 'string', demandOption: true, describe: 'container id' })
      .option('pid-file', { type: 'string', describe: 'write the init pid here (no trailing newline)' })
      .option('inherit-stdio', { type: 'boolean', describe: "give the container this process's stdio instead of a log (runc's shape)" })
      .example('$0 create --bundle ./bundle c1', 'create from an OCI bundle') as never,
  handler: action<CreateArgs>(true, async (argv, ctx) => {
    const { driver } = await ctx.chooseDriver();
    const source = await specFromFlags(argv, commandWords(argv), driver.features, ctx.log);
    const manager = ctx.manager();
    const stdio: StdioTarget = argv.inheritStdio ? { kind: 'fds', stdin: 0, stdout: 1, stderr: 2 } : { kind: 'log' };
    await manager.create({ id: argv.id, bundle: source.bundle ?? manager.store.dir(argv.id), spec: source.spec, driver, stdio });
    if (argv.pidFile) {
      const state = await manager.state(argv.id);
      if (state.pid !== undefined) fs.writeFileSync(argv.pidFile, String(state.pid));
    }
  }),
};
