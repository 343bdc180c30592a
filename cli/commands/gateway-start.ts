/**
 * `start`: runs a gateway, the process in the private network that reaches MongoDB. Registered under
 * `portcullis gateway` and as the single-file gateway's own command (cli/gateway-program.ts), so it imports nothing
 * that needs a native addon or a signed-in user.
 */

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { GatewayAgent } from '../../gateway/agent/agent';
import { readCredentialFile, writeCredentialFile } from '../../gateway/agent/credential-file';
import { enrollGateway } from '../../gateway/agent/enroll';
import { type GatewayLimits, LIMIT_ENV, limitsFromSettings } from '../../gateway/engine/limits';
import { listenForMetrics, METRICS_HOST, METRICS_PORT_ENV, metricsPortFrom } from '../../gateway/metrics/metrics-listener';
import { normalizeServerUrl } from '../../proxy-core/api-client';
import { displayMessage } from '../../proxy-core/display-text';
import { readCaFile } from '../../proxy-core/server-trust';
import { SECRET_PREFIXES } from '../../server/auth/secret-tokens';
import type { PemKeyPair } from '../../tunnel/certificates';
import { certificateFingerprint } from '../../tunnel/fingerprint';
import { configDirFromEnv, ensureConfigDir } from '../credentials/config-dir';
import { CliError } from '../errors';
import { EXIT_CODES } from '../exit-codes';
import { type EnrollmentToken, enrollmentTokenFrom, GATEWAY_TOKEN_ENV, TOKEN_ARGUMENT_WARNING } from '../input/enrollment-token';
import { hideArgument } from '../input/hide-argument';
import { printStatus, printText } from '../output/output-mode';
import { exitOnSecondSignal, untilSignal } from '../signals';

interface StartFlags {
  server?: string;
  token?: string;
  tokenFile?: string;
  name?: string;
  credentialFile?: string;
  caFile?: string;
  maxPendingMib?: string;
  messageTimeout?: string;
  maxNestingDepth?: string;
  rotateTunnelKey?: boolean;
  metricsPort?: string;
  logFormat?: string;
}

/** Adds `start` to `parent` (`portcullis gateway`, or the `portcullis-gateway` program). */
export function registerGatewayStart(parent: Command): void {
  parent
    .command('start')
    .description('run a gateway: enrolls with an enrollment token (--token-file) the first time, then runs until Ctrl+C or SIGTERM')
    .option('--server <url>', 'the control plane address (default: the one in the credential file)')
    .option('--token-file <path>', 'file holding the enrollment token from "portcullis gateway enroll-token" (readable only by you)')
    .option(
      '--token <token>',
      `the enrollment token itself: other users of this machine can see it in the process list; prefer --token-file or $${GATEWAY_TOKEN_ENV}`,
    )
    .option('--name <name>', 'name shown to admins (default: the host name)')
    .option('--credential-file <path>', 'where the gateway credential is kept (default: gateway-credential.json in the config folder)')
    .option(
      '--ca-file <path>',
      'PEM file of your company CA, when the control plane’s certificate comes from it (or $PORTCULLIS_CA_FILE; kept with the credential)',
    )
    .option(
      '--max-pending-mib <n>',
      `memory for partly received messages, all connections together (default 256, or $${LIMIT_ENV.maxPendingMiB})`,
    )
    .option(
      '--message-timeout <seconds>',
      `time a message may take to arrive, plus 1 s per MiB (default 30, or $${LIMIT_ENV.messageTimeoutSeconds})`,
    )
    .option('--max-nesting-depth <n>', `deepest nesting of documents in a command (default 200, or $${LIMIT_ENV.maxNestingDepth})`)
    .option(
      '--rotate-tunnel-key',
      'make a new tunnel key pair (end-to-end encryption) before starting; sessions started before must be started again',
    )
    .option(
      '--metrics-port <port>',
      `serve Prometheus metrics at http://${METRICS_HOST}:PORT/metrics (loopback only; off by default, or $${METRICS_PORT_ENV})`,
    )
    .option('--log-format <format>', 'text (default) or json: one JSON line per event on stderr (or $PORTCULLIS_LOG_FORMAT)')
    .action(async (flags: StartFlags) => {
      const logFormat = flags.logFormat ?? (process.env.PORTCULLIS_LOG_FORMAT || 'text');
      if (logFormat !== 'text' && logFormat !== 'json') {
        throw new CliError(`--log-format (PORTCULLIS_LOG_FORMAT) must be text or json, got "${logFormat}"`, EXIT_CODES.failure);
      }
      let metricsPort: number | undefined;
      try {
        metricsPort = metricsPortFrom(flags.metricsPort ?? process.env[METRICS_PORT_ENV]);
      } catch (error) {
        throw new CliError((error as Error).message, EXIT_CODES.failure);
      }
      let limits: ReturnType<typeof limitsFromSettings>;
      try {
        limits = limitsFromSettings({
          maxPendingMiB: flags.maxPendingMib ?? process.env[LIMIT_ENV.maxPendingMiB],
          messageTimeoutSeconds: flags.messageTimeout ?? process.env[LIMIT_ENV.messageTimeoutSeconds],
          maxNestingDepth: flags.maxNestingDepth ?? process.env[LIMIT_ENV.maxNestingDepth],
        });
      } catch (error) {
        throw new CliError((error as Error).message, EXIT_CODES.failure);
      }
      const token = enrollmentTokenFrom({ token: flags.token, tokenFile: flags.tokenFile, env: process.env });
      if (token?.from === 'argument') {
        printStatus(`portcullis: ${TOKEN_ARGUMENT_WARNING}`);
        hideArgument(token.token);
      }
      const file = resolve(flags.credentialFile ?? join(ensureConfigDir(configDirFromEnv(process.env)), 'gateway-credential.json'));
      const caFlag = flags.caFile ?? (process.env.PORTCULLIS_CA_FILE || undefined);
      const { server, credential, gatewayId, caFile } = await obtainCredential(
        { server: flags.server, token, name: flags.name, caFile: caFlag ? resolve(caFlag) : undefined },
        file,
      );
      const ca = caFile ? caOf(caFile) : undefined;
      const tunnelIdentity = await tunnelIdentityOf(file, flags.rotateTunnelKey === true, flags.name ?? gatewayId);
      printStatus(`Gateway ${gatewayId}: tunnel certificate ${certificateFingerprint(tunnelIdentity.certificatePem)}`);
      printStatus(`Gateway ${gatewayId}: connecting to ${server}${caFile ? ` (trusting the CA in ${caFile})` : ''}…`);
      const agent = await runAgent({
        server,
        credential,
        ca,
        name: flags.name,
        limits,
        spoolDir: join(dirname(file), 'gateway-spool'),
        tunnelIdentity,
        logFormat,
      });
      const metrics =
        metricsPort === undefined
          ? undefined
          : await listenForMetrics(agent.metrics, metricsPort).catch(async (error: Error) => {
              await agent.stop();
              throw new CliError(error.message);
            });
      if (metrics) printStatus(`Metrics: http://${METRICS_HOST}:${metrics.port}/metrics`);
      printText(`Gateway ${gatewayId} is running (${agent.status()}). Press Ctrl+C to stop.`);
      const signal = await untilSignal();
      exitOnSecondSignal();
      printStatus(`${signal}: stopping the gateway (closing connections, sending the last logs)…`);
      await metrics?.close();
      await agent.stop();
      printStatus('Gateway stopped.');
    });
}

/**
 * The credential to run with: the file's when the gateway already enrolled with this server (so re-running the
 * printed enroll line after a restart just works), else enrolls with the token and writes the file.
 */
export async function obtainCredential(
  given: { server?: string; token?: EnrollmentToken; name?: string; caFile?: string },
  file: string,
): Promise<{ server: string; credential: string; gatewayId: string; caFile?: string }> {
  const token = given.token?.token;
  const server = given.server ? normalize(given.server) : undefined;
  if (existsSync(file)) {
    const stored = readCredentialFile(file);
    if (!server || normalize(stored.server) === server) {
      if (token?.startsWith(SECRET_PREFIXES.enrollment)) {
        printStatus(`Already enrolled as ${stored.gatewayId} (${file}); the token was not used. Delete that file to enroll again.`);
      }
      // A CA given now replaces the stored one (and is kept for the next start).
      const caFile = given.caFile ?? stored.caFile;
      if (given.caFile && given.caFile !== stored.caFile) writeCredentialFile(file, { ...stored, caFile: given.caFile });
      return { server: normalize(stored.server), credential: stored.credential, gatewayId: stored.gatewayId, caFile };
    }
    if (!token) {
      throw new CliError(
        `${file} holds a credential for ${stored.server}, not ${server}; give an enrollment token (--token-file) to enroll with ${server}, or --credential-file`,
      );
    }
  }
  if (!server) throw new CliError('--server is required the first time (the address of the control plane)');
  if (!token) {
    throw new CliError(
      `this gateway is not enrolled yet (no ${file}); an admin creates a token with portcullis gateway enroll-token: save it in a file only you can read, then run portcullis gateway start --server ${server} --token-file FILE`,
    );
  }
  if (token.startsWith(SECRET_PREFIXES.gatewayCredential)) {
    // Already a gateway credential (e.g. copied from another machine's file): keep it in the file, no enrollment.
    writeCredentialFile(file, { server, gatewayId: 'unknown', credential: token, caFile: given.caFile });
    return { server, credential: token, gatewayId: 'with the given credential', caFile: given.caFile };
  }
  printStatus(`Enrolling with ${server}…`);
  const enrolled = await enrollGateway({ server, token, name: given.name, ca: given.caFile ? caOf(given.caFile) : undefined }).catch(
    (error: Error) => {
      throw new CliError(error.message);
    },
  );
  writeCredentialFile(file, { server, gatewayId: enrolled.gatewayId, credential: enrolled.credential, caFile: given.caFile });
  printStatus(`Enrolled as gateway ${enrolled.gatewayId}; credential saved in ${file} (readable only by you).`);
  if (given.token?.file) printStatus(`The enrollment token is used up: you can delete ${given.token.file}.`);
  return { server, credential: enrolled.credential, gatewayId: enrolled.gatewayId, caFile: given.caFile };
}

/**
 * The gateway's tunnel key pair from its credential file, made (or replaced, when rotating) and saved there first.
 * The private key stays in that file (mode 0600) on this machine; the control plane learns only the certificate.
 */
async function tunnelIdentityOf(file: string, rotate: boolean, name: string): Promise<PemKeyPair> {
  const stored = readCredentialFile(file);
  if (!rotate && stored.tunnelKey && stored.tunnelCertificate)
    return { keyPem: stored.tunnelKey, certificatePem: stored.tunnelCertificate };
  const { createGatewayIdentity } = await import('../../tunnel/certificates');
  const identity = await createGatewayIdentity(name);
  writeCredentialFile(file, { ...stored, tunnelKey: identity.keyPem, tunnelCertificate: identity.certificatePem });
  if (rotate) printStatus(`New tunnel key made and saved in ${file}; sessions started before must be started again.`);
  return identity;
}

function caOf(file: string): string {
  try {
    return readCaFile(file);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/** Starts the agent with its log lines on stderr and status changes reported. */
export async function runAgent(options: {
  server: string;
  credential: string;
  ca?: string;
  name?: string;
  limits?: Partial<GatewayLimits>;
  /** Where the write-ahead log spool lives (the gateway's state folder). */
  spoolDir: string;
  tunnelIdentity?: PemKeyPair;
  /** `json`: one JSON line per event on stderr (protocol/log-line.ts) instead of text lines. */
  logFormat?: 'text' | 'json';
}): Promise<GatewayAgent> {
  const { logFormat, ...agentOptions } = options;
  if (logFormat === 'json') {
    const { startGatewayAgent } = await import('../../gateway/agent/agent');
    const { jsonGatewayLogger } = await import('../../gateway/agent/json-logger');
    const logger = jsonGatewayLogger(process.stderr);
    const agent = await startGatewayAgent({ ...agentOptions, logger });
    agent.on('status', (status) => logger.info(`gateway is ${status}`));
    agent.on('rejected', (why) => logger.error(`the control plane refused this gateway's credential: ${why}`));
    return agent;
  }
  const stamp = () => new Date().toISOString();
  // Log lines quote upstream errors and the control plane's reasons, which can carry names other users chose.
  const { startGatewayAgent } = await import('../../gateway/agent/agent');
  const agent = await startGatewayAgent({
    ...agentOptions,
    logger: {
      info: (m) => printStatus(`${stamp()} gateway: ${displayMessage(m)}`),
      warn: (m) => printStatus(`${stamp()} gateway warning: ${displayMessage(m)}`),
      error: (m) => printStatus(`${stamp()} gateway error: ${displayMessage(m)}`),
    },
  });
  agent.on('status', (status) => printStatus(`${stamp()} gateway is ${status}`));
  agent.on('rejected', (why) => printStatus(`${stamp()} the control plane refused this gateway's credential: ${displayMessage(why)}`));
  return agent;
}

function normalize(server: string): string {
  try {
    return normalizeServerUrl(server);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}
