/**
 * The Fastify application: logging with secrets redacted, strict JSON schema validation, authentication,
 * error mapping, and every route of the JSON API under /api/v1 (the WebSockets are attached elsewhere).
 */
import { readFileSync } from 'node:fs';
import type https from 'node:https';
import Fastify, { type FastifyHttpsOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { API_PREFIX } from '../../protocol/api';
import type { ControlPlaneConfig, LoggerSetting } from '../config';
import type { AppDeps } from './app-deps';
import { addAuthentication } from './authentication';
import { addErrorHandling } from './error-handling';
import { accessRequestRoutes } from './routes/access-request-routes';
import { accountRoutes } from './routes/account-routes';
import { authRoutes } from './routes/auth-routes';
import { gatewayRoutes } from './routes/gateway-routes';
import { healthRoutes } from './routes/health-routes';
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
}

declare module 'fastify' {
  interface FastifyInstance {
    registeredRoutes: RegisteredRoute[];
  }
}

function loggerOptions(setting: LoggerSetting | undefined): FastifyServerOptions['logger'] {
  if (!setting) return false;
  const options = { level: 'info', redact: { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' } };
  return setting === true ? options : { ...options, stream: setting };
}

export function buildApp(config: ControlPlaneConfig, deps: AppDeps): FastifyInstance {
  const options: FastifyServerOptions = {
    logger: loggerOptions(config.logger),
    bodyLimit: 1024 * 1024,
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
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  app.decorate('registeredRoutes', routes);
  addErrorHandling(app);
  addAuthentication(app, deps.ctx);
  app.register(
    async (api) => {
      healthRoutes(api, deps);
      authRoutes(api, deps);
      ssoRoutes(api, deps);
      projectRoutes(api, deps);
      gatewayRoutes(api, deps);
      resourceRoutes(api, deps);
      accountRoutes(api, deps);
      sessionRoutes(api, deps);
      accessRequestRoutes(api, deps);
    },
    { prefix: API_PREFIX },
  );
  return app;
}
