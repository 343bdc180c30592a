/** `portcullis login`, `logout`, `whoami`: signing in to a control plane and remembering it. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { LoginResponse } from '../../protocol/api';
import { type ApiClient, isApiError, normalizeServerUrl } from '../../proxy-core/api-client';
import { displayMessage, displayText } from '../../proxy-core/display-text';
import { anonymousClient, configDir, serverAddress, signedInClient } from '../context';
import { readConfig } from '../credentials/config-file';
import { forgetToken, loadToken, saveToken } from '../credentials/token-store';
import { CliError } from '../errors';
import { EXIT_CODES } from '../exit-codes';
import { askLine } from '../input/prompt';
import { obtainSecret } from '../input/secret';
import { addOutputOption, type OutputFormat, printJson, printStatus, printText } from '../output/output-mode';
import { renderFields } from '../output/table';
import { signInWithSso } from '../sso/sso-login';

export function registerLoginCommands(program: Command): void {
  program
    .command('login')
    .description('sign in to a Portcullis server (asks for your email and password)')
    .option('--server <url>', 'the server address, e.g. https://portcullis.example.com (default: the last one used)')
    .option('--email <email>', 'your email (asked when left out)')
    .option('--password-stdin', 'read the password from standard input instead of asking')
    .option('--ca-file <path>', 'PEM file of your company CA, when the server’s certificate comes from it (kept with the sign-in)')
    .option('--sso', 'sign in with your organisation’s identity provider (single sign-on) in a browser')
    .option('--device', 'with --sso: finish in a browser on any device (for a machine whose browser cannot reach this one)')
    .option('--no-browser', 'with --sso: do not open a browser; print the address to open')
    .action(async (options: LoginOptions) => {
      const address = serverAddress(options.server);
      if (!address) throw new CliError('which server? run portcullis login --server URL');
      const server = normalizeServer(address);
      const dir = configDir();
      if (options.sso || options.device) {
        const caFile = options.caFile ? resolve(options.caFile) : undefined;
        const client = anonymousClient(server, caFile);
        const answer = await signInWithSso(client, { device: Boolean(options.device), browser: options.browser !== false });
        return reportSignIn(
          client.server,
          answer,
          saveToken(dir, { server: client.server, token: answer.token }, { email: answer.user.email, caFile }),
        );
      }
      let email = options.email ?? readConfig(dir).email;
      if (!options.email) {
        if (options.passwordStdin) {
          if (!email) throw new CliError('with --password-stdin, also give --email (standard input carries the password)');
        } else {
          const typed = await askLine(email ? `Email [${email}]: ` : 'Email: ');
          email = typed || email;
        }
      }
      if (!email) throw new CliError('an email is needed to sign in');
      const password = await obtainSecret({ fromStdin: Boolean(options.passwordStdin), what: 'password' });
      const caFile = options.caFile ? resolve(options.caFile) : undefined;
      const client = anonymousClient(server, caFile);
      const answer = await client.login({ email, password }).catch((error: unknown) => {
        if (isApiError(error, 'unauthenticated')) {
          throw new CliError(
            `${client.server} refused the sign-in (${error.message}); check the email and password`,
            EXIT_CODES.notSignedIn,
          );
        }
        throw error;
      });
      reportSignIn(client.server, answer, saveToken(dir, { server: client.server, token: answer.token }, { email, caFile }));
    });

  program
    .command('logout')
    .description('sign out: revokes the token at the server and forgets it here')
    .action(async () => {
      const dir = configDir();
      const stored = loadToken(dir);
      if (!stored) {
        forgetToken(dir);
        printText('Not signed in; nothing to do.');
        return;
      }
      const client = signedInClient();
      let revoked = true;
      try {
        await client.logout();
      } catch (error) {
        // An expired token is as good as revoked; an unreachable server is not, and the user should know.
        if (isApiError(error, 'unauthenticated')) revoked = true;
        else if (isApiError(error)) {
          revoked = false;
          printStatus(`warning: could not revoke the token at ${client.server}: ${displayMessage(error.message)}`);
        } else throw error;
      }
      forgetToken(dir);
      printText(revoked ? `Signed out of ${client.server}.` : `Forgot the sign-in for ${client.server} on this computer.`);
    });

  addOutputOption(
    program
      .command('whoami')
      .description('show who you are signed in as, and your projects')
      .action(async (options: { output: OutputFormat }) => {
        const client: ApiClient = signedInClient();
        const me = await client.me();
        if (options.output === 'json') return printJson({ server: client.server, ...me });
        printText(
          renderFields([
            ['Server', client.server],
            ['User', `${me.user.name ? `${me.user.name} ` : ''}<${me.user.email}>`],
            ['User id', me.user.id],
            ['Projects', me.projects.map((p) => `${p.name} (${p.role})`).join(', ') || 'none'],
          ]),
        );
      }),
  );
}

interface LoginOptions {
  server?: string;
  email?: string;
  passwordStdin?: boolean;
  caFile?: string;
  sso?: boolean;
  device?: boolean;
  /** False with --no-browser. */
  browser?: boolean;
}

function reportSignIn(server: string, answer: LoginResponse & { idpMfa?: boolean }, saved: ReturnType<typeof saveToken>): void {
  printText(`Signed in to ${server} as ${displayText(answer.user.email)}.`);
  if (answer.idpMfa) printText('Your identity provider confirmed a second factor; accounts that require MFA accept it.');
  if (saved.store === 'keychain') printText('Your sign-in token is stored in the OS keychain.');
  else {
    printText(`Your sign-in token is stored in ${saved.where}, because no OS keychain is available (${saved.keychainProblem}).`);
  }
  printText(`It expires ${new Date(answer.expiresAt).toLocaleString()}.`);
}

function normalizeServer(address: string): string {
  try {
    return normalizeServerUrl(address);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}
