/** `portcullis gateway enroll-token|start|list|delete`: the process in the private network that reaches MongoDB. */

import type { Command } from 'commander';
import { displayText } from '../../proxy-core/display-text';
import { resolveProject, signedInClient } from '../context';
import { CliError } from '../errors';
import { EXIT_CODES } from '../exit-codes';
import { formatTime } from '../output/format';
import { addOutputOption, type OutputFormat, printJson, printText } from '../output/output-mode';
import { renderTable } from '../output/table';
import { registerGatewayStart } from './gateway-start';

/** The file `gateway enroll-token` suggests keeping the token in (any path works with --token-file). */
const SUGGESTED_TOKEN_FILE = 'enroll-token';

export function registerGatewayCommands(program: Command): void {
  const gateway = program.command('gateway').description('gateways: they reach the databases and log in for your users');

  addOutputOption(
    gateway
      .command('enroll-token')
      .description('create a one-time token to enroll a new gateway (admin)')
      .option('--name <name>', 'name the gateway will get')
      .option('--project <name|id>', 'the project (default: your only one)')
      .action(async (flags: { name?: string; project?: string; output: OutputFormat }) => {
        const client = signedInClient();
        const project = await resolveProject(client, flags.project);
        const token = await client.createEnrollmentToken({ projectId: project.id, name: flags.name });
        // The token goes in a file, not in the command: a command line is visible to every user of the machine.
        const command = `portcullis gateway start --server ${client.server} --token-file ${SUGGESTED_TOKEN_FILE}${flags.name ? ` --name ${flags.name}` : ''}`;
        if (flags.output === 'json') return printJson({ ...token, command });
        printText(`Enrollment token (single use, expires ${formatTime(token.expiresAt)}):`);
        printText(`  ${token.token}`);
        printText('On the gateway machine, in the network that reaches your databases, save the token in a file only you can');
        printText(`read (for example: umask 077; cat > ${SUGGESTED_TOKEN_FILE}, paste it, Ctrl+D), then run:`);
        printText(`  ${command}`);
      }),
  );

  registerGatewayStart(gateway);

  addOutputOption(
    gateway
      .command('list')
      .description('list the gateways of the project (admin)')
      .option('--project <name|id>', 'the project (default: your only one)')
      .action(async (flags: { project?: string; output: OutputFormat }) => {
        const client = signedInClient();
        const project = await resolveProject(client, flags.project);
        const items = await client.listGateways(project.id);
        if (flags.output === 'json') return printJson(items);
        if (items.length === 0) return printText('No gateways yet: create one with portcullis gateway enroll-token.');
        printText(
          renderTable(items, [
            { header: 'name', value: (g) => g.name },
            { header: 'id', value: (g) => g.id },
            { header: 'status', value: (g) => (g.online ? 'online' : 'offline') },
            { header: 'last seen', value: (g) => formatTime(g.lastSeenAt) },
            { header: 'created', value: (g) => formatTime(g.createdAt) },
          ]),
        );
      }),
  );

  gateway
    .command('delete')
    .description('remove a gateway; its credential stops working (admin)')
    .argument('<gateway>', 'name or id')
    .option('--project <name|id>', 'the project (default: your only one)')
    .action(async (ref: string, flags: { project?: string }) => {
      const client = signedInClient();
      const project = await resolveProject(client, flags.project);
      const gateways = await client.listGateways(project.id);
      const found = gateways.find((g) => g.id === ref) ?? gateways.find((g) => g.name === ref);
      if (!found) throw new CliError(`no gateway "${ref}" (see portcullis gateway list)`, EXIT_CODES.notFound);
      await client.deleteGateway(found.id);
      printText(`Deleted gateway ${displayText(found.name)} (${found.id}).`);
    });
}
