/**
 * Where `portcullis gateway start` takes the enrollment token from, best first: `--token-file` (a file only its
 * owner can read), `$PORTCULLIS_GATEWAY_TOKEN`, or `--token`. A token given as an argument sits in the process's
 * command line, which every user of the machine can read (ps, /proc/<pid>/cmdline): whoever reads it before the
 * gateway uses it can enroll a gateway of their own. So `--token` gets a warning, and the caller hides it from
 * the command line (hide-argument.ts).
 */
import { resolve } from 'node:path';
import { readPrivateFile } from '../credentials/private-file';
import { CliError } from '../errors';

export const GATEWAY_TOKEN_ENV = 'PORTCULLIS_GATEWAY_TOKEN';

export interface EnrollmentTokenSources {
  /** `--token`. */
  token?: string;
  /** `--token-file`. */
  tokenFile?: string;
  env: NodeJS.ProcessEnv;
}

export interface EnrollmentToken {
  token: string;
  from: 'file' | 'env' | 'argument';
  /** The file it was read from (from: 'file'). */
  file?: string;
}

export const TOKEN_ARGUMENT_WARNING =
  `warning: --token puts the enrollment token in this process's command line, which other users of this machine can ` +
  `read (ps, /proc/<pid>/cmdline); give it with --token-file FILE (readable only by you) or $${GATEWAY_TOKEN_ENV} instead`;

/** The token, or undefined when none was given. Throws a CliError that says what to fix. */
export function enrollmentTokenFrom(sources: EnrollmentTokenSources): EnrollmentToken | undefined {
  if (sources.token !== undefined && sources.tokenFile !== undefined) {
    throw new CliError('give the enrollment token once: --token-file or --token, not both');
  }
  if (sources.tokenFile !== undefined) {
    const file = resolve(sources.tokenFile);
    let text: string | undefined;
    try {
      text = readPrivateFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliError(code ? `could not read the enrollment token file ${file} (${code})` : (error as Error).message);
    }
    if (text === undefined) throw new CliError(`no enrollment token file at ${file}`);
    const token = text.trim();
    if (token === '' || /\s/.test(token)) {
      throw new CliError(`the enrollment token file ${file} must hold the token alone (from portcullis gateway enroll-token)`);
    }
    return { token, from: 'file', file };
  }
  if (sources.token !== undefined) {
    if (sources.token.trim() === '') throw new CliError('--token is empty');
    return { token: sources.token.trim(), from: 'argument' };
  }
  const fromEnv = sources.env[GATEWAY_TOKEN_ENV]?.trim();
  return fromEnv ? { token: fromEnv, from: 'env' } : undefined;
}
