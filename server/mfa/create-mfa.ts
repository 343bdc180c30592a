/**
 * Everything the control plane needs for MFA, built in one call: the service, the hook for the access route,
 * and the routes. SMTP settings come from the caller or PORTCULLIS_SMTP_* (see smtp-config.ts).
 */
import type { FastifyInstance } from 'fastify';
import { deriveKey } from '../secrets/derive-key';
import type { ServiceContext } from '../services/context';
import type { MfaProvider } from '../sessions/mfa';
import { createEmailSender, type EmailSender } from './email-sender';
import { createMfaProvider } from './mfa-provider';
import { registerMfaRoutes } from './mfa-routes';
import { MfaService } from './mfa-service';
import { loadSmtpConfigFromEnv, type SmtpConfig } from './smtp-config';

export interface Mfa {
  service: MfaService;
  /** For `AccessDeps.mfa`. */
  provider: MfaProvider;
  /** Call inside the `/api/v1` scope. */
  registerRoutes(api: FastifyInstance): void;
  /** The SMTP sender, when one is configured (other notices go through it too). */
  email: EmailSender | null;
  close(): void;
}

export function createMfa(options: {
  ctx: ServiceContext;
  rootKey: Buffer;
  /** `null` turns email MFA off explicitly; undefined reads PORTCULLIS_SMTP_* from the environment. */
  smtp?: SmtpConfig | null;
}): Mfa {
  const smtp = options.smtp === undefined ? loadSmtpConfigFromEnv() : options.smtp;
  const email = smtp ? createEmailSender(smtp) : null;
  const service = new MfaService({ store: options.ctx.store, key: deriveKey(options.rootKey, 'mfa'), email, now: () => options.ctx.now() });
  return {
    service,
    provider: createMfaProvider(service),
    registerRoutes: (api) => registerMfaRoutes(api, { ctx: options.ctx, mfa: service }),
    email,
    close: () => email?.close(),
  };
}
