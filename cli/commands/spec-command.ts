import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CommandModule } from 'yargs';
import { action, commandWords, type GlobalArgs } from '../command-kit';
import { defaultSpec } from '../../core/spec/default-spec';
import { BerthError } from '../../core/errors/berth-error';

interface SpecArgs extends GlobalArgs {
  rootfs?: string;
  bundle?: string;
  command?: string[];
}

export const specCommand: CommandModule<GlobalArgs, SpecArgs> = {
  command: 'spec [command..]',
  describe: 'Write a default config.json (as runc spec does) into the bundle folder',
  builder: (y) =>
    y
      .positional('command', { type: 'string', array: true })
      .option('rootfs', { type: 'string', describe: 'root.path to write (default: rootfs)' })
      .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'folder to write config.json into' }) as never,
  handler: action<SpecArgs>(false, async (argv) => {
    const file = path.join(argv.bundle ?? '.', 'config.json');
    if (fs.existsSync(file)) throw new BerthError('INVALID_ARGUMENT', `${file} exists: remove it first`);
    const spec = defaultSpec({ ...(argv.rootfs ? { rootfs: argv.rootfs } : {}), args: commandWords(argv) });
    fs.writeFileSync(file, `${JSON.stringify(spec, null, 2)}\n`);
  }),
};
