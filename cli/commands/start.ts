/**
 * `portcullis start` (what `npm start` runs): a first look on one machine. The control plane on SQLite in
 * ./.portcullis-data and a gateway in the same process, enrolled automatically on first start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { GatewayAgent } from '../../gateway/agent/agent';
import { readCredentialFile, writeCredentialFile } from '../../gateway/agent/credential-file';
import { enrollGateway } from '../../gateway/agent/enroll';
import { anonymousClient } from '../context';
import { printStatus, printText } from '../output/output-mode';
import { exitOnSecondSignal, untilSignal } from '../signals';
import { runAgent } from './gateway';
import { addServerOptions, type ServerFlags, serverConfig } from './server';

export const LOCAL_GATEWAY_NAME = 'local';
const CREDENTIAL_FILE = 'gateway-credential.json';

export function registerStartCommands(program: Command): void {
  addServerOptions(program.command('start').description('first look: control plane (SQLite) and a gateway in one process, ready to use'), {
    dataDir: '.portcullis-data',
  }).action(async (flags: ServerFlags) => {
    // Request logs would bury the instructions; PORTCULLIS_LOG=on brings them back.
    const config = serverConfig(flags, { logger: process.env.PORTCULLIS_LOG === 'on' });
    printStatus(`Starting the control plane (data in ${config.dataDir})…`);
    const { runServer } = await import('../../server/run-server');
    // The agent below runs in this process: the relay hands it its streams directly while it is online
    // (otherwise streams take the ordinary path, which refuses them with "gateway offline").
    let local: { gatewayId: string; agent: GatewayAgent } | undefined;
    const running = await runServer(config, {
      localGateways: {
        has: (gatewayId) => local?.gatewayId === gatewayId && local.agent.status() === 'online',
        serve: (_gatewayId, streamId, sessionId, socket) => {
          if (!local) throw new Error('the local gateway is stopping');
          local.agent.serveLocalStream(streamId, sessionId, socket);
        },
      },
    });
    let agent: GatewayAgent | undefined;
    try {
      const credentialFile = join(config.dataDir, CREDENTIAL_FILE);
      const enrolled = await localGatewayCredential(running.url, credentialFile, running.bootstrap);
      if (enrolled) {
        agent = await runAgent({
          server: running.url,
          credential: enrolled.credential,
          name: LOCAL_GATEWAY_NAME,
          spoolDir: join(config.dataDir, 'gateway-spool'),
        });
        local = { gatewayId: enrolled.gatewayId, agent };
      }

      printText('');
      printText(`Portcullis is running at ${running.url}`);
      if (running.bootstrap) {
        printText('');
        printText('Admin sign-in (one-time password, shown only now; keep it):');
        printText(`  Email:    ${running.bootstrap.email}`);
        printText(`  Password: ${running.bootstrap.password}`);
      } else {
        printText(
          `Admin: use the password shown on first start. Lost it? Stop this and run: portcullis server bootstrap --data-dir ${config.dataDir}`,
        );
      }
      printText('');
      printText(
        agent
          ? `Gateway "${LOCAL_GATEWAY_NAME}" is ready in this process.`
          : `No gateway runs in this process (no ${credentialFile}); enroll one with portcullis gateway enroll-token.`,
      );
      printText('');
      printText('Next, in another terminal:');
      printText(`  portcullis login --server ${running.url}${running.bootstrap ? ` --email ${running.bootstrap.email}` : ''}`);
      printText(
        `  portcullis resource create --name mydb --gateway ${LOCAL_GATEWAY_NAME} --connection-string mongodb://HOST:27017 --no-tls`,
      );
      printText('  portcullis account create --resource mydb --name readonly --username DB_USER      (asks for its password)');
      printText('  portcullis access --resource mydb --account readonly --exec mongosh');
      printText('');
      printText('Press Ctrl+C to stop.');
      const signal = await untilSignal();
      exitOnSecondSignal();
      printStatus(`${signal}: stopping…`);
    } finally {
      local = undefined;
      await agent?.stop().catch(() => undefined);
      await running.close();
    }
  });
}

/**
 * The in-process gateway's credential: from the data folder, or on first start enrolled with a token the
 * bootstrap admin creates through the API (so this uses the same path as any other gateway).
 */
async function localGatewayCredential(
  url: string,
  file: string,
  bootstrap: { email: string; password: string } | null,
): Promise<{ gatewayId: string; credential: string } | undefined> {
  if (existsSync(file)) return readCredentialFile(file);
  if (!bootstrap) return undefined;
  printStatus('Enrolling the local gateway…');
  const client = anonymousClient(url);
  const signIn = await client.login({ email: bootstrap.email, password: bootstrap.password });
  client.setToken(signIn.token);
  try {
    const { projects } = await client.me();
    const project = projects.find((p) => p.role === 'admin') ?? projects[0];
    if (!project) throw new Error('the first admin has no project; cannot enroll the local gateway');
    const token = await client.createEnrollmentToken({ projectId: project.id, name: LOCAL_GATEWAY_NAME });
    const enrolled = await enrollGateway({ server: url, token: token.token, name: LOCAL_GATEWAY_NAME });
    writeCredentialFile(file, { server: url, gatewayId: enrolled.gatewayId, credential: enrolled.credential });
    return { gatewayId: enrolled.gatewayId, credential: enrolled.credential };
  } finally {
    await client.logout().catch(() => undefined);
  }
}
