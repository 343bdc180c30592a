/** A commander program whose commands throw instead of exiting, shared by `portcullis` and `portcullis-gateway`. */
import { Command } from 'commander';
import { EXIT_CODES_HELP } from './exit-codes';
import { CLI_VERSION } from './version';

/** A program of the given command groups, whose commands throw instead of exiting (run-cli.ts decides the exit code). */
export function buildProgram(
  name: string,
  description: string,
  groups: readonly ((program: Command) => void)[],
  helpAfter = `\n${EXIT_CODES_HELP}`,
): Command {
  const program = new Command(name)
    .description(description)
    .version(CLI_VERSION, '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', helpAfter)
    .exitOverride();
  for (const register of groups) register(program);
  // Subcommands throw instead of exiting too, so run-cli.ts decides the exit code in one place.
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
