/**
 * The Fastify application: logging with secrets redacted, strict JSON schema validation, authentication,
 * error mapping, and every route of the JSON API under /api/v1 (the WebSockets are attached elsewhere).
 */
import { readFileSync } from 'node:fs';
import type https from 'node:https';
import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyHttpsOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { version } from '../../package.json';
import { API_PREFIX } from '../../protocol/api';
import { redactSecrets } from '../../protocol/log-line';
import type { ControlPlaneConfig, LoggerSetting } from '../config';
import type { AppDeps } from './app-deps';
import { addAuthentication } from './authentication';
import { addConsole, defaultConsoleDir } from './console-static';
import { addErrorHandling, frameworkErrors } from './error-handling';
import { addOpenApi, openApiRoutes } from './openapi/openapi-document';
import { accessRequestRoutes } from './routes/access-request-routes';
import { accountRoutes } from './routes/account-routes';
import { authRoutes } from './routes/auth-routes';
import { consoleRoutes } from './routes/console-routes';
import { gatewayRoutes } from './routes/gateway-routes';
import { healthRoutes } from './routes/health-routes';
import { metricsRoutes } from './routes/metrics-routes';
import { projectRoutes } from './routes/project-routes';
import { resourceRoutes } from './routes/resource-routes';
import { sessionRoutes } from './routes/session-routes';
import { ssoRoutes } from './routes/sso-routes';

/** Log paths that may carry a secret. Fastify's request serializer logs no body or headers, this is the belt and braces. */
export const REDACTED_LOG_PATHS = Object.freeze([
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'body.password',
  'body.token',
  'body.credential',
  '*.password',
  '*.token',
  '*.credential',
  '*.caCertificate',
  '*.*.password',
]);

/** A route of the API as registered (the authorization test requires an entry for each). */
export interface RegisteredRoute {
  method: string;
  url: string;
  /** Who may call it (authentication.ts): the OpenAPI document's security must say the same. */
  auth: 'none' | 'user' | 'metrics';
}

declare module 'fastify' {
  interface FastifyInstance {
    registeredRoutes: RegisteredRoute[];
  }
}

/**
 * Pino, shaped to the log line every part writes (protocol/log-line.ts): ISO `time`, `level` as a word, `component`,
 * `sessionId` (null unless the event names one) and `msg`, secrets redacted from fields and from the message.
 */
function loggerOptions(setting: LoggerSetting | undefined): FastifyServerOptions['logger'] {
  if (!setting) return false;
  const options = {
    level: 'info',
    redact: { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: {
      level: (label: string) => ({ level: label }),
      bindings: () => ({ component: 'control-plane' }),
    },
    mixin: (merged: object) => ({ sessionId: (merged as { sessionId?: unknown }).sessionId ?? null }),
    hooks: {
      logMethod(this: unknown, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === 'string' ? redactSecrets(arg) : arg)),
        );
      },
    },
  };
  return setting === true ? options : { ...options, stream: setting };
}

export function buildApp(config: ControlPlaneConfig, deps: AppDeps): FastifyInstance {
  const options: FastifyServerOptions = {
    logger: loggerOptions(config.logger),
    bodyLimit: 1024 * 1024,
    frameworkErrors,
    // request.ip is the client's (from X-Forwarded-For) only when the request came through a trusted balancer.
    ...(config.trustedProxies.length > 0 ? { trustProxy: config.trustedProxies } : {}),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  };
  const app = (config.tls
    ? Fastify({
        ...(options as FastifyHttpsOptions<https.Server>),
        https: { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) },
      })
    : Fastify(options)) as unknown as FastifyInstance;
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    // The API's routes and /metrics; the console's files outside them are public (server/http/console-static.ts).
    const auth = route.config?.auth ?? 'user';
    if (!route.url.startsWith(`${API_PREFIX}/`) && auth !== 'metrics') return;
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url, auth });
  });
  app.decorate('registeredRoutes', routes);
  addOpenApi(app, version);
  addErrorHandling(app);
  app.register(fastifyCookie);
  addAuthentication(app, deps.ctx);
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  // In a plugin like every route, so that it is added after the OpenAPI generator starts collecting routes.
  app.register(async (root) => metricsRoutes(root, deps.metrics, config.metricsToken));
  addConsole(app, config.consoleDir === undefined ? defaultConsoleDir() : config.consoleDir || undefined);
  app.register(
    async (api) => {
      openApiRoutes(api);
      healthRoutes(api, deps);
      authRoutes(api, deps);
      ssoRoutes(api, deps);
      projectRoutes(api, deps);
      gatewayRoutes(api, deps);
      resourceRoutes(api, deps);
      accountRoutes(api, deps);
      sessionRoutes(api, deps);
      accessRequestRoutes(api, deps);
      consoleRoutes(api, deps);
    },
    { prefix: API_PREFIX },
  );
  return app;
}
