/**
 * `portcullis start` (what `npm start` runs): a first look on one machine. The control plane on SQLite in
 * ./.portcullis-data and a gateway in the same process, set up whenever its credential file is missing (so a
 * first start that failed half-way is finished by the next one).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { GatewayAgent } from '../../gateway/agent/agent';
import { readCredentialFile, writeCredentialFile } from '../../gateway/agent/credential-file';
import type { ControlPlaneConfig } from '../../server/config';
import type { FirstLookState } from '../../server/first-look';
import type { RunningServer } from '../../server/run-server';
import { quoteArg } from '../lookup/resolve';
import { printStatus, printText } from '../output/output-mode';
import { exitOnSecondSignal, untilSignal } from '../signals';
import { runAgent } from './gateway-start';
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
    const { consoleNotice } = await import('../../server/http/console-static');
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
      printText('');
      printText(`Portcullis is running at ${running.url}`);
      printText(consoleNotice(running.url, config.consoleDir));
      // Before anything else can fail: this password is shown once.
      if (running.bootstrap) {
        printText('');
        printText('Admin sign-in (one-time password, shown only now; keep it):');
        printText(`  Email:    ${running.bootstrap.email}`);
        printText(`  Password: ${running.bootstrap.password}`);
      }

      const { firstLookState } = await import('../../server/first-look');
      const enrolled = await localGatewayCredential(running, join(config.dataDir, CREDENTIAL_FILE));
      agent = await runAgent({
        server: running.url,
        credential: enrolled.credential,
        name: LOCAL_GATEWAY_NAME,
        spoolDir: join(config.dataDir, 'gateway-spool'),
      });
      local = { gatewayId: enrolled.gatewayId, agent };

      const state = await firstLookState(running.controlPlane.store);
      if (!running.bootstrap) {
        printText('');
        printText(`Admin: ${state.adminEmail}, with the password shown on first start.`);
        printText(`Lost it? Stop this and run: ${resetCommand(config)}`);
      }
      printText('');
      printText(
        agent.status() === 'online'
          ? `Gateway "${LOCAL_GATEWAY_NAME}" is ready in this process.`
          : `Gateway "${LOCAL_GATEWAY_NAME}" runs in this process but is not connected yet (${agent.status()}); see the messages above.`,
      );
      printText('');
      printText('Next, in another terminal:');
      for (const line of nextSteps(running.url, state)) printText(`  ${line}`);
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
 * The in-process gateway's credential: from the data folder, or (on a first start, or when the file is missing or
 * its credential unknown to this control plane) issued in-process and written there, mode 0600.
 */
async function localGatewayCredential(running: RunningServer, file: string): Promise<{ gatewayId: string; credential: string }> {
  if (existsSync(file)) {
    const saved = readCredentialFile(file);
    if (await running.controlPlane.services.authenticateGateway(saved.credential)) return saved;
    printStatus(`The gateway credential in ${file} is not known to this control plane; setting up the local gateway again…`);
  } else {
    printStatus('Enrolling the local gateway…');
  }
  const { issueLocalGateway } = await import('../../server/first-look');
  const issued = await issueLocalGateway(running.controlPlane.store, LOCAL_GATEWAY_NAME, new Date());
  writeCredentialFile(file, { server: running.url, gatewayId: issued.gatewayId, credential: issued.credential });
  return issued;
}

function resetCommand(config: ControlPlaneConfig): string {
  return config.databaseUrl
    ? 'portcullis server bootstrap (with the same PORTCULLIS_DATABASE_URL)'
    : `portcullis server bootstrap --data-dir ${quoteArg(config.dataDir)}`;
}

/** The commands to run next, for the state the server is in (as `portcullis` takes them; passwords are asked for). */
export function nextSteps(url: string, state: FirstLookState): string[] {
  const project = state.projectNames.length > 1 ? ` --project ${quoteArg(state.projectName)}` : '';
  const steps = [`portcullis login --server ${url} --email ${quoteArg(state.adminEmail)}`];
  if (state.resourceCount === 0) {
    steps.push(
      `portcullis resource create${project} --name mydb --gateway ${LOCAL_GATEWAY_NAME} --connection-string mongodb://HOST:27017 --no-tls`,
      `portcullis account create${project} --resource mydb --name readonly --username DB_USER      (asks for its password)`,
      `portcullis access${project} --resource mydb --account readonly --exec mongosh`,
    );
  } else {
    steps.push(`portcullis resource list${project}`, `portcullis access${project} --resource RESOURCE --account ACCOUNT --exec mongosh`);
  }
  return steps;
}
