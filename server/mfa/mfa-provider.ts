/**
 * Adapts `MfaService` to the hook the access route calls (`MfaProvider` in server/sessions/mfa.ts).
 */
import { API_ERROR_CODES } from '../../protocol/api';
import { ServiceError } from '../services/service-error';
import type { MfaProvider, MfaVerdict } from '../sessions/mfa';
import type { AccountRow } from '../store/schema';
import type { MfaAccount, MfaService } from './mfa-service';

const VERDICT_CODES = new Set<string>([API_ERROR_CODES.mfaInvalid, API_ERROR_CODES.mfaExpired, API_ERROR_CODES.mfaNotConfigured]);

export function createMfaProvider(service: MfaService): MfaProvider {
  const accountOf = async (row: AccountRow): Promise<MfaAccount> => {
    const resource = await service.resourceName(row.resource_id);
    return { id: row.id, projectId: row.project_id, label: `${resource ?? row.resource_id} / ${row.name}` };
  };
  return {
    // The service reads the project's enforced method itself, in the same place it reads the user's TOTP state.
    async challenge(user, account) {
      const { kind: _kind, ...challenge } = await service.challenge(user, await accountOf(account));
      return challenge;
    },
    async verify(user, account, answer): Promise<MfaVerdict> {
      try {
        return { ok: true, ...(await service.verify(user, await accountOf(account), answer)) };
      } catch (error) {
        if (error instanceof ServiceError && VERDICT_CODES.has(error.code)) {
          return { ok: false, code: error.code as Extract<MfaVerdict, { ok: false }>['code'], message: error.message };
        }
        throw error;
      }
    },
  };
}
