/**
 * What `portcullis start` (control plane and gateway in one process, for a first look) needs from the store: the
 * gateway it runs beside the control plane, and the state its printed next steps must fit.
 *
 * The local gateway is set up in the process, without an enrollment token or the admin's password: the password
 * is shown once, and a start that failed after creating the admin must still be able to set the gateway up when
 * it is run again.
 */

import { findFirstAdmin } from './auth/bootstrap';
import { hashSecretToken, newSecretToken, SECRET_PREFIXES } from './auth/secret-tokens';
import { AUDIT_ACTIONS, recordAudit } from './services/audit';
import { insertGateway } from './services/gateways';
import { newId } from './store/ids';
import type { Store } from './store/store';

export interface LocalGateway {
  gatewayId: string;
  /** The gateway's credential; keep it in a file only its owner can read. */
  credential: string;
}

export interface FirstLookState {
  /** The admin the printed sign-in is for (the first admin). */
  adminEmail: string;
  /** The projects that admin belongs to: with more than one, commands need --project. */
  projectNames: string[];
  /** The project the local gateway belongs to. */
  projectName: string;
  /** Resources in that project: with none, the next step is to create one. */
  resourceCount: number;
}

/**
 * A new credential for the gateway named `name` in the first admin's project, creating the gateway when the
 * project has none of that name. An existing one keeps its id, and with it its resources; its old credential stops
 * working. That is what a start finds when the credential file is missing: a first start that failed after
 * enrolling, a removed file, or another data folder on the same PostgreSQL database.
 */
export async function issueLocalGateway(store: Store, name: string, now: Date): Promise<LocalGateway> {
  const time = now.toISOString();
  const credential = newSecretToken(SECRET_PREFIXES.gatewayCredential);
  return store.lockedTransaction([`local-gateway:${name}`], async (trx) => {
    const admin = await findFirstAdmin(trx);
    if (!admin) {
      throw new Error(
        'the store has no admin to own the local gateway: run portcullis server bootstrap --email EMAIL (with the same data folder or database) to give one a password',
      );
    }
    const existing = await trx
      .selectFrom('gateways')
      .select('id')
      .where('project_id', '=', admin.project_id)
      .where('name', '=', name)
      .orderBy('created_at')
      .orderBy('id')
      .executeTakeFirst();
    const gatewayId = existing?.id ?? newId('gw_');
    if (existing) {
      await trx
        .updateTable('gateways')
        .set({ credential_hash: hashSecretToken(credential) })
        .where('id', '=', gatewayId)
        .execute();
    } else {
      await insertGateway(trx, { id: gatewayId, projectId: admin.project_id, name, credential, time });
    }
    await recordAudit(trx, time, {
      projectId: admin.project_id,
      actor: null,
      action: AUDIT_ACTIONS.gatewayEnrolled,
      targetType: 'gateway',
      targetId: gatewayId,
      details: { name, by: 'portcullis start', newCredentialForExisting: Boolean(existing) },
    });
    return { gatewayId, credential };
  });
}

export async function firstLookState(store: Store): Promise<FirstLookState> {
  const admin = await findFirstAdmin(store.db);
  if (!admin) throw new Error('the store has no admin: run portcullis server bootstrap --email EMAIL to give one a password');
  const projects = await store.db
    .selectFrom('project_members')
    .innerJoin('projects', 'projects.id', 'project_members.project_id')
    .select(['projects.id', 'projects.name'])
    .where('project_members.user_id', '=', admin.id)
    .orderBy('projects.name')
    .execute();
  const resources = await store.db
    .selectFrom('resources')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', admin.project_id)
    .executeTakeFirstOrThrow();
  return {
    adminEmail: admin.email,
    projectNames: projects.map((p) => p.name),
    projectName: projects.find((p) => p.id === admin.project_id)?.name ?? '',
    resourceCount: Number(resources.n),
  };
}
