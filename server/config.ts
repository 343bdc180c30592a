/**
 * The control plane's settings, and how they are read from PORTCULLIS_* environment variables.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { onOff } from './env-switch';
import { loadSsoConfigFromEnv, type SsoConfig } from './sso/sso-config';

/** Where Fastify's (pino) log lines go: `false` = off, `true` = standard output, or any writable stream. */
export type LoggerSetting = boolean | { write(line: string): unknown };

export interface ControlPlaneConfig {
  listenHost: string;
  /** 0 picks a free port. */
  listenPort: number;
  /** SQLite file, root key file (when no key is given) live here. */
  dataDir: string;
  /** postgres://... ; SQLite in dataDir when absent. */
  databaseUrl?: string;
  /** Base64 of 32 bytes; takes precedence over keyFile. */
  rootKey?: string;
  /** Defaults to <dataDir>/root.key (created with mode 0600 on first start). */
  keyFile?: string;
  /** Address clients use (e.g. https://portcullis.example.com) when it differs from what the request says. */
  publicUrl?: string;
  /**
   * Address gateways reach this replica at, when several replicas share one PostgreSQL database behind a load
   * balancer (each needs its own). Default: publicUrl, else the address it listens on.
   */
  replicaUrl?: string;
  tls?: { certFile: string; keyFile: string };
  /** The built web console served at `/` (default: dist/console beside the running bundle; '' serves none). */
  consoleDir?: string;
  /**
   * Serve plain HTTP on an address other than loopback. Off by default: sign-in tokens, passwords typed into account
   * forms and session traffic would cross the network in clear. For a TLS-terminating proxy in front, say so here.
   */
  insecureHttp: boolean;
  /**
   * Addresses or CIDR ranges of the HTTP load balancers in front (nginx, HAProxy in HTTP mode) whose
   * X-Forwarded-For is believed: the sign-in and enrollment limits then count the client's network, not the
   * balancer's. Empty (default): the header is ignored, since anyone could send it.
   */
  trustedProxies: string[];
  /** Lifetime of a sign-in token. */
  tokenTtlSeconds: number;
  /** A session with no open connection and no traffic for this long ends with reason `idle`. */
  idleTimeoutSeconds: number;
  /** Duration of a session when the client does not ask for one. */
  defaultSessionSeconds: number;
  /** No session lasts longer than this, whatever the account allows. */
  maxSessionSecondsCap: number;
  /** Gateways are expected to heartbeat this often; a gateway unseen for two intervals is offline. */
  gatewayHeartbeatSeconds: number;
  /** A gateway no replica has heard from for this long has its active sessions ended (reason gateway_offline). */
  gatewayOfflineGraceSeconds: number;
  /**
   * Email a project's admins when a session gets its first high-severity risk flag (once per session). Needs SMTP
   * (PORTCULLIS_SMTP_*). Off by default: flags are always stored and listed; the email is the optional alert.
   */
  flagEmails: boolean;
  /** An access request (for an account that requires approval) that no admin answers for this long expires. */
  accessRequestTtlSeconds: number;
  /** Email of the first admin, created on first start. */
  bootstrapEmail: string;
  /**
   * On SQLite, store gateways' log batches on a worker thread of their own (default), off the event loop that relays
   * session bytes. `false` stores them on the main thread, as before the writer thread: for troubleshooting, and for
   * the bench's before/after figure. PostgreSQL always stores them on the main thread (its driver does not block).
   */
  logWriterThread: boolean;
  /**
   * The bearer token `GET /metrics` (Prometheus) requires. Unset: the endpoint answers 404, metrics are off.
   * Read from PORTCULLIS_METRICS_TOKEN_FILE (or PORTCULLIS_METRICS_TOKEN), never from a command line.
   */
  metricsToken?: string;
  /** Single sign-on with an OpenID Provider (PORTCULLIS_SSO_*); off when absent. */
  sso?: SsoConfig;
  logger?: LoggerSetting;
}

export const CONFIG_DEFAULTS = Object.freeze({
  listenHost: '127.0.0.1',
  listenPort: 8443,
  tokenTtlSeconds: 12 * 3600,
  idleTimeoutSeconds: 30 * 60,
  defaultSessionSeconds: 3600,
  maxSessionSecondsCap: 12 * 3600,
  gatewayHeartbeatSeconds: 10,
  gatewayOfflineGraceSeconds: 30,
  trustedProxies: [] as string[],
  insecureHttp: false,
  accessRequestTtlSeconds: 3600,
  flagEmails: false,
  bootstrapEmail: 'admin@localhost',
  logWriterThread: true,
});

/** Fills in every default; `dataDir` is the only setting without one. */
export function resolveConfig(partial: Partial<ControlPlaneConfig> & { dataDir: string }): ControlPlaneConfig {
  const config = { ...CONFIG_DEFAULTS, ...stripUndefined(partial), dataDir: partial.dataDir } as ControlPlaneConfig;
  if (config.tls && (!config.tls.certFile || !config.tls.keyFile)) {
    throw new Error('TLS needs both a certificate file and a key file (PORTCULLIS_TLS_CERT_FILE and PORTCULLIS_TLS_KEY_FILE)');
  }
  if (!config.tls && !config.insecureHttp && !isLoopbackHost(config.listenHost)) {
    throw new Error(
      `refusing to serve plain HTTP on ${config.listenHost}, which is not loopback: sign-ins and session traffic would cross the network in clear. ` +
        'Give a certificate (PORTCULLIS_TLS_CERT_FILE and PORTCULLIS_TLS_KEY_FILE), or, behind a proxy that terminates TLS, --insecure-http (PORTCULLIS_INSECURE_HTTP=on)',
    );
  }
  if (config.defaultSessionSeconds > config.maxSessionSecondsCap) config.defaultSessionSeconds = config.maxSessionSecondsCap;
  return config;
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Path of the root key file for this configuration. */
export function keyFileOf(config: ControlPlaneConfig): string {
  return config.keyFile ?? join(config.dataDir, 'root.key');
}

/**
 * Reads the configuration from the environment:
 * PORTCULLIS_HOST, PORTCULLIS_PORT, PORTCULLIS_DATA_DIR (default ./.portcullis-data), PORTCULLIS_DATABASE_URL,
 * PORTCULLIS_ROOT_KEY, PORTCULLIS_KEY_FILE, PORTCULLIS_PUBLIC_URL, PORTCULLIS_REPLICA_URL, PORTCULLIS_TLS_CERT_FILE, PORTCULLIS_TLS_KEY_FILE,
 * PORTCULLIS_TRUSTED_PROXIES (comma-separated addresses or CIDR ranges), PORTCULLIS_INSECURE_HTTP (`on`: plain HTTP off loopback),
 * PORTCULLIS_TOKEN_TTL_SECONDS, PORTCULLIS_IDLE_TIMEOUT_SECONDS, PORTCULLIS_DEFAULT_SESSION_SECONDS,
 * PORTCULLIS_MAX_SESSION_SECONDS, PORTCULLIS_GATEWAY_HEARTBEAT_SECONDS, PORTCULLIS_GATEWAY_OFFLINE_GRACE_SECONDS, PORTCULLIS_ADMIN_EMAIL,
 * PORTCULLIS_ACCESS_REQUEST_TTL_SECONDS, PORTCULLIS_FLAG_EMAILS (`on` emails admins about a session's first high-risk flag),
 * PORTCULLIS_LOG (`off` turns logging off), PORTCULLIS_LOG_WRITER_THREAD (`off` stores log batches on the main thread),
 * PORTCULLIS_METRICS_TOKEN_FILE or PORTCULLIS_METRICS_TOKEN (turns on `GET /metrics` with that bearer token),
 * and the single sign-on settings PORTCULLIS_SSO_* (./sso/sso-config.ts).
 */
export function loadConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ControlPlaneConfig {
  const certFile = env.PORTCULLIS_TLS_CERT_FILE;
  const tlsKeyFile = env.PORTCULLIS_TLS_KEY_FILE;
  return resolveConfig({
    listenHost: env.PORTCULLIS_HOST,
    listenPort: integer(env, 'PORTCULLIS_PORT', 0, 65535),
    dataDir: env.PORTCULLIS_DATA_DIR || '.portcullis-data',
    databaseUrl: env.PORTCULLIS_DATABASE_URL || undefined,
    rootKey: env.PORTCULLIS_ROOT_KEY || undefined,
    keyFile: env.PORTCULLIS_KEY_FILE || undefined,
    publicUrl: env.PORTCULLIS_PUBLIC_URL || undefined,
    replicaUrl: env.PORTCULLIS_REPLICA_URL || undefined,
    tls: certFile || tlsKeyFile ? { certFile: certFile ?? '', keyFile: tlsKeyFile ?? '' } : undefined,
    trustedProxies: addressList(env, 'PORTCULLIS_TRUSTED_PROXIES'),
    insecureHttp: onOff(env, 'PORTCULLIS_INSECURE_HTTP'),
    tokenTtlSeconds: integer(env, 'PORTCULLIS_TOKEN_TTL_SECONDS', 60, 90 * 86400),
    idleTimeoutSeconds: integer(env, 'PORTCULLIS_IDLE_TIMEOUT_SECONDS', 2, 7 * 86400),
    defaultSessionSeconds: integer(env, 'PORTCULLIS_DEFAULT_SESSION_SECONDS', 60, 7 * 86400),
    maxSessionSecondsCap: integer(env, 'PORTCULLIS_MAX_SESSION_SECONDS', 60, 7 * 86400),
    gatewayHeartbeatSeconds: integer(env, 'PORTCULLIS_GATEWAY_HEARTBEAT_SECONDS', 1, 3600),
    gatewayOfflineGraceSeconds: integer(env, 'PORTCULLIS_GATEWAY_OFFLINE_GRACE_SECONDS', 1, 7 * 86400),
    bootstrapEmail: env.PORTCULLIS_ADMIN_EMAIL || undefined,
    accessRequestTtlSeconds: integer(env, 'PORTCULLIS_ACCESS_REQUEST_TTL_SECONDS', 10, 30 * 86400),
    flagEmails: onOff(env, 'PORTCULLIS_FLAG_EMAILS'),
    logger: env.PORTCULLIS_LOG !== 'off',
    logWriterThread: onOff(env, 'PORTCULLIS_LOG_WRITER_THREAD'),
    metricsToken: metricsToken(env),
    sso: loadSsoConfigFromEnv(env),
  });
}

/** At least 16 characters: Prometheus sends it on every scrape, and a short one could be guessed. */
const MIN_METRICS_TOKEN = 16;

function metricsToken(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.PORTCULLIS_METRICS_TOKEN_FILE;
  let token = env.PORTCULLIS_METRICS_TOKEN;
  let from = 'PORTCULLIS_METRICS_TOKEN';
  if (file) {
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new Error(`PORTCULLIS_METRICS_TOKEN_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    from = `the file ${file} (PORTCULLIS_METRICS_TOKEN_FILE)`;
  }
  if (token === undefined || token === '') return undefined;
  if (token.length < MIN_METRICS_TOKEN || /\s/.test(token)) {
    throw new Error(
      `the metrics token in ${from} must be at least ${MIN_METRICS_TOKEN} characters without spaces; make one with: openssl rand -hex 24`,
    );
  }
  return token;
}

/** A comma-separated list of IP addresses and CIDR ranges (checked, so that a typo fails the start). */
function addressList(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  for (const item of items) {
    const [address, bits, extra] = item.split('/');
    const version = isIP(address);
    const maxBits = version === 6 ? 128 : 32;
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
    if (version === 0 || !bitsOk || extra !== undefined) {
      throw new Error(`${name} must list IP addresses or CIDR ranges separated by commas (e.g. 10.0.0.5,10.1.0.0/16), got "${item}"`);
    }
  }
  return items;
}

function integer(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
