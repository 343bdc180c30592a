// Runs a commander program as a command: parses arguments, runs the command, turns expected failures into a message
// and an exit code (see exit-codes.ts). Only unexpected errors print a stack trace. Shared by `portcullis` (main.ts)
// and the single-file gateway (gateway-main.ts).
import { type Command, CommanderError } from 'commander';
import { displayMessage } from '../proxy-core/display-text';
import { configDir } from './context';
import { readConfig } from './credentials/config-file';
import { toCliError } from './errors';
import { EXIT_CODES } from './exit-codes';
import { closePrompts } from './input/prompt';

async function main(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end here with code 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.failure;
    }
    let server: string | undefined;
    try {
      server = readConfig(configDir()).server;
    } catch {
      server = undefined;
    }
    // Every message is escaped here, where it is printed: the server's error messages and ours quote names
    // that other users chose, and library errors may quote data.
    const expected = toCliError(error, server);
    if (expected) {
      if (expected.message) process.stderr.write(`portcullis: ${displayMessage(expected.message)}\n`);
      return expected.exitCode;
    }
    if (isProgrammingError(error) || process.env.PORTCULLIS_DEBUG) {
      const trace = ((error as Error)?.stack ?? String(error)).split('\n').map(displayMessage).join('\n');
      process.stderr.write(`portcullis: unexpected error (please report it): ${trace}\n`);
    } else {
      // Errors from the libraries we call (a key file with the wrong mode, a port in use) carry readable messages.
      process.stderr.write(`portcullis: ${displayMessage((error as Error)?.message ?? String(error))}\n`);
    }
    return EXIT_CODES.failure;
  } finally {
    closePrompts();
  }
}

function isProgrammingError(error: unknown): boolean {
  return (
    !(error instanceof Error) ||
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError
  );
}

export function runCli(createProgram: () => Command): void {
  main(createProgram(), process.argv).then(
    (code) => {
      process.exitCode = code;
      // Commands that ran servers or agents have closed them; anything left (a keep-alive socket) must not hold us.
      setTimeout(() => process.exit(code), 2_000).unref();
    },
    (error) => {
      process.stderr.write(`portcullis: ${displayMessage(String(error))}\n`);
      process.exit(EXIT_CODES.failure);
    },
  );
}
