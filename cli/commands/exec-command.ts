import type { CommandModule } from 'yargs';
import { action, commandWords, type GlobalArgs } from '../command-kit';
import { BerthError } from '../../core/errors/berth-error';

interface ExecArgs extends GlobalArgs {
  id: string;
  command?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  interactive?: boolean;
}

export const execCommand: CommandModule<GlobalArgs, ExecArgs> = {
  command: 'exec <id> [command..]',
  describe: "Run a command in a running container's namespaces, cgroup and security settings",
  builder: (y) =>
    y
      .positional('id', { type: 'string', demandOption: true })
      .positional('command', { type: 'string', array: true })
      .option('env', { alias: 'e', type: 'string', array: true })
      .option('workdir', { alias: 'w', type: 'string' })
      .option('user', { alias: 'u', type: 'string', describe: 'uid[:gid]' })
      .option('interactive', { alias: 'i', type: 'boolean' })
      .option('tty', { alias: 't', type: 'boolean' }) as never,
  handler: action<ExecArgs>(true, async (argv, ctx) => {
    const args = commandWords(argv);
    if (args.length === 0) throw new BerthError('INVALID_ARGUMENT', 'exec needs a command (after --)');
    const manager = ctx.manager();
    const spec = (await manager.open(argv.id)).ref.spec;
    let user;
    if (argv.user) {
      const m = /^(\d+)(?::(\d+))?$/.exec(argv.user);
      if (!m) throw new BerthError('INVALID_ARGUMENT', `--user: expected uid[:gid], got "${argv.user}"`);
      user = { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
    }
    const env = argv.env?.length ? [...(spec.process?.env ?? []), ...argv.env] : undefined;
    const result = await manager.exec(argv.id, {
      args,
      ...(env ? { env } : {}),
      ...(argv.workdir ? { cwd: argv.workdir } : {}),
      ...(user ? { user } : {}),
      tty: argv.tty ?? false,
      stdio: { stdin: argv.interactive ? 0 : null, stdout: 1, stderr: 2 },
    });
    return result.exitCode;
  }),
};
