/**
 * Issue 12: `portcullis gateway start --token pce_…` left the enrollment token in /proc/<pid>/cmdline, readable by
 * every user of the machine, for the gateway's whole life. The real CLI against a real control plane
 * (`portcullis server`): the token from a file (the form `gateway enroll-token` prints) or from
 * $PORTCULLIS_GATEWAY_TOKEN enrolls without a warning; from --token it still works, with a warning, and is gone
 * from the command line while the gateway runs; a token file others can read, a missing or empty one, or two
 * tokens at once are refused before the token is used.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GatewayDto } from '../../protocol/api';
import { freePort } from '../bed/ports';
import { trackTempDir } from '../bed/processes';
import { buildCli, CliRunner, type CliUser, commandLineOf, newCliUser, type RunningCli, removeBuild } from '../e2e/cli-harness';

const WARNING = /portcullis: warning: --token puts the enrollment token in this process's command line/;

describe('gateway start: the enrollment token from a file, the environment or (with a warning) an argument', () => {
  let bundle: string;
  let cli: CliRunner;
  let server: RunningCli;
  let url: string;
  let admin: CliUser;
  const gateways: RunningCli[] = [];

  /** A new single-use enrollment token for a gateway named `name`. */
  const newToken = async (name: string): Promise<string> => {
    const enroll = await cli.run(admin, ['gateway', 'enroll-token', '--name', name, '--output', 'json']);
    assert.equal(enroll.code, 0, enroll.stderr);
    const { token, command } = JSON.parse(enroll.stdout) as { token: string; command: string };
    assert.equal(command, `portcullis gateway start --server ${url} --token-file enroll-token --name ${name}`);
    return token;
  };

  /** Starts `gateway start` for a new gateway user; resolves once it runs (or fails naming its output). */
  const startGateway = async (user: CliUser, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningCli> => {
    const gateway = cli.start(user, ['gateway', 'start', '--server', url, ...args], { env });
    gateways.push(gateway);
    await gateway.waitFor(/is running/);
    return gateway;
  };

  const online = async (name: string): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      const list = await cli.run(admin, ['gateway', 'list', '--output', 'json']);
      if ((JSON.parse(list.stdout) as GatewayDto[]).some((g) => g.name === name && g.online)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`gateway ${name} did not come online`);
  };

  /** A file only `user` can read holding `content`, in their home (where the CLI runs). */
  const tokenFile = (user: CliUser, content: string, mode = 0o600): string => {
    const path = join(user.home, 'enroll-token');
    writeFileSync(path, content, { mode });
    chmodSync(path, mode);
    return path;
  };

  before(async () => {
    bundle = await buildCli();
    cli = new CliRunner(bundle);
    const serverUser = newCliUser('token-server');
    admin = newCliUser('token-admin');
    const dataDir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-token-data-')));
    server = cli.start(serverUser, ['server', '--data-dir', dataDir, '--port', String(await freePort()), '--host', '127.0.0.1']);
    url = (await server.waitFor(/listening on (http:\/\/\S+)/))[1];
    const sign = await server.waitFor(/Email:\s+(\S+)\s*\n\s*Password:\s+(\S+)/);
    const login = await cli.run(admin, ['login', '--server', url, '--email', sign[1], '--password-stdin'], { input: `${sign[2]}\n` });
    assert.equal(login.code, 0, login.stderr);
  });

  after(async () => {
    for (const gateway of gateways) await gateway.stop();
    await server?.stop();
    if (bundle) removeBuild(bundle);
  });

  it('enroll-token prints the file form; --token-file enrolls without a warning and says the file can go', async () => {
    const human = await cli.run(admin, ['gateway', 'enroll-token', '--name', 'gw-file']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /save the token in a file only you can\nread \(for example: umask 077; cat > enroll-token/);
    assert.match(
      human.stdout,
      new RegExp(`^  portcullis gateway start --server ${url.replace(/[.]/g, '\\.')} --token-file enroll-token --name gw-file$`, 'm'),
    );
    const token = await newToken('gw-file');
    const user = newCliUser('token-file');
    const file = tokenFile(user, `${token}\n`);
    // Relative, as printed: the file is in the folder the command runs in.
    const gateway = await startGateway(user, ['--token-file', 'enroll-token', '--name', 'gw-file']);
    await online('gw-file');
    assert.doesNotMatch(gateway.output(), WARNING);
    assert.match(gateway.output(), new RegExp(`The enrollment token is used up: you can delete ${file.replace(/[.]/g, '\\.')}\\.`));
    assert.equal(commandLineOf(gateway.child.pid!).includes(token), false);
  });

  it('$PORTCULLIS_GATEWAY_TOKEN enrolls without a warning, and the token is in no command line', async () => {
    const token = await newToken('gw-env');
    const gateway = await startGateway(newCliUser('token-env'), ['--name', 'gw-env'], { PORTCULLIS_GATEWAY_TOKEN: token });
    await online('gw-env');
    assert.doesNotMatch(gateway.output(), WARNING);
    assert.equal(commandLineOf(gateway.child.pid!).includes(token), false);
  });

  it('--token still works, warns, and the token is gone from /proc/<pid>/cmdline while the gateway runs', async () => {
    const token = await newToken('gw-argv');
    const gateway = await startGateway(newCliUser('token-argv'), ['--token', token, '--name', 'gw-argv']);
    await online('gw-argv');
    assert.match(gateway.output(), WARNING);
    assert.match(gateway.output(), /--token-file FILE \(readable only by you\) or \$PORTCULLIS_GATEWAY_TOKEN instead/);
    const commandLine = commandLineOf(gateway.child.pid!);
    assert.match(commandLine, /gateway start --server \S+ --token \*\*\* --name gw-argv/);
    assert.equal(commandLine.includes(token), false, commandLine);
    assert.equal(gateway.output().includes(token), false, 'the token is not printed either');
  });

  it('refuses a token file others can read, a missing or empty one, and two tokens, before using the token', async () => {
    const token = await newToken('gw-refused');
    const user = newCliUser('token-refused');
    const refused = async (args: string[], message: RegExp) => {
      const result = await cli.run(user, ['gateway', 'start', '--server', url, '--name', 'gw-refused', ...args], { timeoutMs: 30_000 });
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.includes(token), false, 'the token is not printed');
    };
    const file = tokenFile(user, `${token}\n`, 0o644);
    await refused(
      ['--token-file', file],
      /enroll-token can be read by other users \(mode 644\); run chmod 600 .*enroll-token and try again/,
    );
    await refused(['--token-file', join(user.home, 'missing')], /^portcullis: no enrollment token file at .*missing$/m);
    await refused(['--token-file', file, '--token', token], /give the enrollment token once: --token-file or --token, not both/);
    tokenFile(user, '\n');
    await refused(['--token-file', file], /enroll-token must hold the token alone/);

    // None of that used the token: it still enrolls.
    tokenFile(user, `${token}\n`);
    await startGateway(user, ['--token-file', file, '--name', 'gw-refused']);
    await online('gw-refused');
  });
});
