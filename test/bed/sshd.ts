import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports';
import { captureOutput, removeTempDir, spawnTracked, stopProcess, trackTempDir } from './processes';

export const SSHD_BIN = '/usr/sbin/sshd';
export const SSH_BIN = '/usr/bin/ssh';
const SSH_KEYGEN_BIN = '/usr/bin/ssh-keygen';

export interface SshForward {
  /** The local end of the tunnel (127.0.0.1). */
  port: number;
  stop(): Promise<void>;
}

export interface SshdServer {
  host: string;
  port: number;
  /** The login the client key is authorized for (the user running the tests). */
  user: string;
  /** Private key of the generated client key pair (no passphrase). */
  keyFile: string;
  /**
   * `ssh -N -L 127.0.0.1:localPort:targetHost:targetPort` through this server, as a separate process; resolves
   * once the local port accepts connections.
   */
  forward(localPort: number, targetHost: string, targetPort: number): Promise<SshForward>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts Debian's OpenSSH server in the foreground (`-D -e -f <config>`) on a random loopback port, with a host
 * key and a client key generated in a temp folder; only that client key may log in, and only the current user.
 * Stopped by stop(), and at process exit by processes.ts.
 */
export async function startSshd(): Promise<SshdServer> {
  for (const binary of [SSHD_BIN, SSH_BIN, SSH_KEYGEN_BIN]) {
    if (!existsSync(binary)) {
      throw new Error(`${binary} is missing; install Debian's openssh-server and openssh-client (npm test installs them)`);
    }
  }
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'portcullis-sshd-')));
  const hostKey = join(dir, 'host_ed25519');
  const keyFile = join(dir, 'client_ed25519');
  const keygen = (file: string) => execFileSync(SSH_KEYGEN_BIN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'portcullis-test', '-f', file]);
  keygen(hostKey);
  keygen(keyFile);
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${keyFile}.pub`), { mode: 0o600 });
  const user = userInfo().username;
  const isRoot = process.getuid?.() === 0;
  // As root, sshd insists on its privilege separation folder (a package install does not create it until boot).
  if (isRoot && !existsSync('/run/sshd')) {
    mkdirSync('/run/sshd', { mode: 0o755, recursive: true });
    chmodSync('/run/sshd', 0o755);
  }

  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      // The temp folder is world-traversable /tmp; the key material is still only readable by us.
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      `PermitRootLogin ${isRoot ? 'prohibit-password' : 'no'}`,
      `AllowUsers ${user}`,
      'AllowTcpForwarding local',
      'X11Forwarding no',
      'PrintMotd no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const child = spawnTracked(SSHD_BIN, ['-D', '-e', '-f', config]);
  const output = captureOutput(child);
  const alive = () => child.exitCode === null && child.signalCode === null;
  try {
    await waitForPort(port, '127.0.0.1', 15_000, alive);
  } catch (error) {
    await stopProcess(child);
    removeTempDir(dir);
    throw new Error(`sshd did not start: ${(error as Error).message}\n${output()}`);
  }

  const forwards = new Set<SshForward>();
  const server: SshdServer = {
    host: '127.0.0.1',
    port,
    user,
    keyFile,
    async forward(localPort, targetHost, targetPort) {
      const ssh = spawnTracked(SSH_BIN, [
        '-N',
        '-F',
        '/dev/null',
        '-p',
        String(port),
        '-i',
        keyFile,
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'ExitOnForwardFailure=yes',
        '-o',
        'LogLevel=ERROR',
        '-L',
        `127.0.0.1:${localPort}:${targetHost}:${targetPort}`,
        `${user}@127.0.0.1`,
      ]);
      const sshOutput = captureOutput(ssh);
      const sshAlive = () => ssh.exitCode === null && ssh.signalCode === null;
      try {
        await waitForPort(localPort, '127.0.0.1', 15_000, sshAlive);
      } catch (error) {
        await stopProcess(ssh);
        throw new Error(`ssh -L ${localPort}:${targetHost}:${targetPort} did not come up: ${(error as Error).message}\n${sshOutput()}`);
      }
      const forward: SshForward = {
        port: localPort,
        async stop() {
          forwards.delete(forward);
          await stopProcess(ssh);
        },
      };
      forwards.add(forward);
      return forward;
    },
    output,
    async stop() {
      await Promise.all([...forwards].map((f) => f.stop()));
      await stopProcess(child);
      removeTempDir(dir);
    },
  };
  return server;
}
