/** `portcullis resource create|list|show|update|delete` (admin, except list/show). */

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ResourceDto, ResourceInput } from '../../protocol/api';
import { collectPages } from '../../proxy-core/api-client';
import { displayText } from '../../proxy-core/display-text';
import { resolveProject, signedInClient } from '../context';
import { CliError } from '../errors';
import { obtainSecret } from '../input/secret';
import { quoteArg, resolveGateway, resolveResource } from '../lookup/resolve';
import { reportConnectionTest } from '../output/connection-test';
import { formatTime } from '../output/format';
import { addOutputOption, type OutputFormat, printJson, printText } from '../output/output-mode';
import { renderFields, renderTable } from '../output/table';

interface ResourceFlags {
  project?: string;
  name?: string;
  gateway?: string;
  connectionString?: string;
  authDatabase?: string;
  tls?: boolean;
  tlsRejectUnauthorized?: boolean;
  caFile?: string;
  noCa?: boolean;
  output: OutputFormat;
}

function addResourceFields(command: Command, forCreate: boolean): Command {
  return command
    .option('--gateway <name|id>', forCreate ? 'the gateway that reaches the database' : 'move to another gateway')
    .option('--connection-string <uri>', 'mongodb:// or mongodb+srv:// address, without username, password or database')
    .option('--auth-database <db>', forCreate ? 'database the accounts authenticate against (default: admin)' : 'authentication database')
    .option('--tls', forCreate ? 'connect with TLS (the default)' : 'connect with TLS')
    .option('--no-tls', 'connect without TLS')
    .option('--tls-reject-unauthorized', forCreate ? 'verify the server certificate (the default)' : 'verify the server certificate')
    .option('--no-tls-reject-unauthorized', 'accept any server certificate (testing only)')
    .option('--ca-file <path>', 'PEM file with the CA certificate(s) that signed the server certificate');
}

export function registerResourceCommands(program: Command): void {
  const resource = program.command('resource').description('MongoDB deployments reachable through a gateway');

  addOutputOption(
    addResourceFields(
      resource
        .command('create')
        .description('add a resource (admin)')
        .requiredOption('--name <name>', 'a name people will type, unique in the project')
        .option('--project <name|id>', 'the project (default: your only one)'),
      true,
    ).action(async (flags: ResourceFlags, command: Command) => {
      if (!flags.gateway)
        throw new CliError('--gateway is required: the gateway (name or id) that reaches this database; see portcullis gateway list');
      if (!flags.connectionString) throw new CliError('--connection-string is required, e.g. mongodb://db.internal:27017');
      const client = signedInClient();
      const project = await resolveProject(client, flags.project);
      const gateway = await resolveGateway(client, project.id, flags.gateway);
      const input: ResourceInput = {
        name: flags.name!,
        gatewayId: gateway.id,
        connectionString: flags.connectionString,
        authDatabase: flags.authDatabase ?? 'admin',
      };
      if (given(command, 'tls')) input.tlsEnabled = flags.tls;
      if (given(command, 'tlsRejectUnauthorized')) input.tlsRejectUnauthorized = flags.tlsRejectUnauthorized;
      if (flags.caFile) input.caCertificate = readCaFile(flags.caFile);
      const created = await client.createResource(project.id, input);
      if (flags.output === 'json') return printJson(created);
      printText(`Created resource "${displayText(created.name)}" (${created.id}) on gateway ${displayText(created.gatewayName)}.`);
      printText(
        `Next: portcullis account create --resource ${quoteArg(created.name)} --name NAME --username DB_USER   (asks for the password)`,
      );
    }),
  );

  addOutputOption(
    resource
      .command('list')
      .description('list the resources of the project')
      .option('--project <name|id>', 'the project (default: your only one)')
      .option('--name <name>', 'only the resource with this name')
      .action(async (flags: { project?: string; name?: string; output: OutputFormat }) => {
        const client = signedInClient();
        const project = await resolveProject(client, flags.project);
        const items = await collectPages((cursor) => client.listResources({ projectId: project.id, name: flags.name, cursor, limit: 200 }));
        if (flags.output === 'json') return printJson(items);
        if (items.length === 0) return printText(`No resources in project ${displayText(project.name)} yet.`);
        printText(
          renderTable(items, [
            { header: 'name', value: (r) => r.name },
            { header: 'id', value: (r) => r.id },
            { header: 'gateway', value: (r) => `${r.gatewayName}${r.gatewayOnline ? '' : ' (offline)'}` },
            { header: 'connection string', value: (r) => r.connectionString, maxWidth: 60 },
            { header: 'tls', value: (r) => r.tlsEnabled },
          ]),
        );
      }),
  );

  addOutputOption(
    resource
      .command('show')
      .description('show one resource')
      .argument('<resource>', 'name or id')
      .option('--project <name|id>', 'the project (default: your only one)')
      .action(async (ref: string, flags: { project?: string; output: OutputFormat }) => {
        const client = signedInClient();
        const project = await resolveProject(client, flags.project);
        const found = await resolveResource(client, project.id, ref);
        if (flags.output === 'json') return printJson(found);
        printText(showResource(found));
      }),
  );

  addOutputOption(
    addResourceFields(
      resource
        .command('update')
        .description('change a resource (admin); only the options given change')
        .argument('<resource>', 'name or id')
        .option('--name <name>', 'rename it')
        .option('--no-ca', 'remove the stored CA certificate')
        .option('--project <name|id>', 'the project (default: your only one)'),
      false,
    ).action(async (ref: string, flags: ResourceFlags, command: Command) => {
      const client = signedInClient();
      const project = await resolveProject(client, flags.project);
      const found = await resolveResource(client, project.id, ref);
      const patch: Partial<ResourceInput> = {};
      if (flags.name !== undefined) patch.name = flags.name;
      if (flags.gateway !== undefined) patch.gatewayId = (await resolveGateway(client, project.id, flags.gateway)).id;
      if (flags.connectionString !== undefined) patch.connectionString = flags.connectionString;
      if (flags.authDatabase !== undefined) patch.authDatabase = flags.authDatabase;
      if (given(command, 'tls')) patch.tlsEnabled = flags.tls;
      if (given(command, 'tlsRejectUnauthorized')) patch.tlsRejectUnauthorized = flags.tlsRejectUnauthorized;
      if (flags.caFile) patch.caCertificate = readCaFile(flags.caFile);
      // commander turns --no-ca into ca: false
      if ((flags as { ca?: boolean }).ca === false) patch.caCertificate = null;
      if (Object.keys(patch).length === 0)
        throw new CliError('nothing to change: give at least one option (see portcullis resource update --help)');
      const updated = await client.updateResource(found.id, patch);
      if (flags.output === 'json') return printJson(updated);
      printText(`Updated resource "${displayText(updated.name)}" (${updated.id}).`);
    }),
  );

  addOutputOption(
    resource
      .command('test')
      .description('the gateway reaches the resource’s database now (admin); with --username, also signs in (password from standard input)')
      .argument('<resource>', 'name or id')
      .option('--username <user>', 'also sign in as this database user (its password is asked, or read from standard input when piped)')
      .option('--project <name|id>', 'the project (default: your only one)'),
  ).action(async (ref: string, flags: { project?: string; username?: string; output: OutputFormat }) => {
    const client = signedInClient();
    const project = await resolveProject(client, flags.project);
    const found = await resolveResource(client, project.id, ref);
    const user = flags.username
      ? {
          username: flags.username,
          password: await obtainSecret({ fromStdin: !process.stdin.isTTY, what: `password of ${flags.username}` }),
        }
      : {};
    reportConnectionTest(await client.testResourceConnection(found.id, user), flags.output);
  });

  resource
    .command('delete')
    .description('delete a resource and its accounts (admin)')
    .argument('<resource>', 'name or id')
    .option('--project <name|id>', 'the project (default: your only one)')
    .action(async (ref: string, flags: { project?: string }) => {
      const client = signedInClient();
      const project = await resolveProject(client, flags.project);
      const found = await resolveResource(client, project.id, ref);
      await client.deleteResource(found.id);
      printText(`Deleted resource "${displayText(found.name)}" (${found.id}).`);
    });
}

export function showResource(r: ResourceDto): string {
  return renderFields([
    ['Name', r.name],
    ['Id', r.id],
    ['Gateway', `${r.gatewayName} (${r.gatewayId}, ${r.gatewayOnline ? 'online' : 'offline'})`],
    ['Connection string', r.connectionString],
    ['Auth database', r.authDatabase],
    ['TLS', r.tlsEnabled],
    ['Verify certificate', r.tlsRejectUnauthorized],
    ['CA certificate', r.hasCaCertificate ? 'stored' : 'none'],
    ['Created', formatTime(r.createdAt)],
    ['Updated', formatTime(r.updatedAt)],
  ]);
}

/** Whether the user typed the option (commander fills defaults for --x/--no-x pairs otherwise). */
function given(command: Command, name: string): boolean {
  const source = command.getOptionValueSource(name);
  return source === 'cli' || source === 'env';
}

function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the CA file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new CliError(`${path} does not contain a PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return text;
}
