import { initialMigration } from './0001-initial';
import { mfaMigration } from './0010-mfa';
import { signInThrottlesMigration } from './0020-sign-in-throttles';
import { replicasMigration } from './0030-replicas';
import { accountPoliciesMigration } from './0040-account-policies';
import { riskFlagsMigration } from './0050-risk-flags';
import { logSearchMigration } from './0060-log-search';
import { accessRequestsMigration } from './0070-access-requests';
import { tunnelTlsMigration } from './0080-tunnel-tls';
import { ssoMigration } from './0090-sso';
import type { StoreMigration } from './store-migration';

/**
 * Every migration, by name. Names sort in the order they run (`NNNN-name`); a released migration is never
 * edited, a change is a new one. Add yours here.
 */
export const STORE_MIGRATIONS: Readonly<Record<string, StoreMigration>> = Object.freeze({
  '0001-initial': initialMigration,
  '0010-mfa': mfaMigration,
  '0020-sign-in-throttles': signInThrottlesMigration,
  '0030-replicas': replicasMigration,
  '0040-account-policies': accountPoliciesMigration,
  '0050-risk-flags': riskFlagsMigration,
  '0060-log-search': logSearchMigration,
  '0070-access-requests': accessRequestsMigration,
  '0080-tunnel-tls': tunnelTlsMigration,
  '0090-sso': ssoMigration,
});
