/** The one-verb lifecycle commands that take only a container id: start, pause, resume. */
import type { CommandModule } from 'yargs';
import { action, type GlobalArgs } from '../command-kit';
import type { ContainerManager } from '../../core/runtime/container-manager';

interface IdArgs extends GlobalArgs {
  id: string;
}

function idCommand(verb: 'start' | 'pause' | 'resume', describe: string): CommandModule<GlobalArgs, IdArgs> {
  return {
    command: `${verb} <id>`,
    describe,
    builder: (y) => y.positional('id', { type: 'string', demandOption: true, describe: 'container id' }) as never,
    handler: action<IdArgs>(false, async (argv, ctx) => {
      const manager: ContainerManager = ctx.manager();
      await manager[verb](argv.id);
    }),
  };
}

export const startCommand = idCommand('start', 'Start the process of a created container (OCI start)');
export const pauseCommand = idCommand('pause', 'Freeze every process of a running container');
export const resumeCommand = idCommand('resume', 'Thaw a paused container');
