/** Builds the `portcullis` commander program from the registry. */
import { Command } from 'commander';
import { COMMAND_GROUPS } from './commands/registry';
import { EXIT_CODES_HELP } from './exit-codes';
import { CLI_VERSION } from './version';

export function createProgram(): Command {
  const program = new Command('portcullis')
    .description('Privileged access to MongoDB: a local address that needs no password, every command recorded.')
    .version(CLI_VERSION, '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .exitOverride();
  for (const register of COMMAND_GROUPS) register(program);
  // Subcommands throw instead of exiting too, so main.ts decides the exit code in one place.
  const applyToAll = (command: Command) => {
    for (const sub of command.commands) {
      sub.exitOverride();
      sub.showHelpAfterError('(add --help for usage)');
      applyToAll(sub);
    }
  };
  applyToAll(program);
  return program;
}
