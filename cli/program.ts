/** Builds the `portcullis` commander program from the registry. */
import type { Command } from 'commander';
import { buildProgram } from './build-program';
import { COMMAND_GROUPS } from './commands/registry';

export function createProgram(): Command {
  return buildProgram(
    'portcullis',
    'Privileged access to MongoDB: a local address that needs no password, every command recorded.',
    COMMAND_GROUPS,
  );
}
