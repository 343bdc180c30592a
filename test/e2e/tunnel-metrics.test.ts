/**
 * Prometheus metrics move with a real session: the control plane's `GET /metrics` (with its token) and the gateway's
 * loopback endpoint are scraped before, during and after a session through the real tunnel (startAccess → relay →
 * gateway agent → FerretDB with SCRAM) in which the official driver runs commands, one of them refused by the
 * account's read-only policy. Also: a wrong sign-in and a refused relay stream are counted, and the metrics token is
 * required.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { listenForMetrics, type MetricsListener } from '../../gateway/metrics/metrics-listener';
import { API_PREFIX } from '../../protocol/api';
import { RELAY_PATH, RELAY_SESSION_HEADER, RELAY_UPGRADE_PROTOCOL } from '../../protocol/relay';
import { startAccess } from '../../proxy-core/access';
import { ApiClient } from '../../proxy-core/api-client';
import { startTunnelBed, type TunnelBed, waitFor } from './tunnel-harness';

const METRICS_TOKEN = 'metrics-token-for-the-test-0123456789';

/** Prometheus text → `name{labels}` → value (labels as printed, sorted by prom-client). */
function parse(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

describe('metrics: the control plane and the gateway during a real session', () => {
  let bed: TunnelBed;
  let gatewayMetrics: MetricsListener;

  const controlPlane = async () => {
    const answer = await fetch(`${bed.server}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parse(await answer.text());
  };
  const gateway = async () => {
    const answer = await fetch(`http://127.0.0.1:${gatewayMetrics.port}/metrics`);
    assert.equal(answer.status, 200);
    return parse(await answer.text());
  };
  const value = (metrics: Map<string, number>, name: string) => metrics.get(name) ?? 0;

  before(async () => {
    bed = await startTunnelBed({ config: { metricsToken: METRICS_TOKEN } });
    gatewayMetrics = await listenForMetrics(bed.agent.metrics, 0);
    await bed.api.updateAccount(bed.account.id, { policy: { mode: 'read-only' } });
  });

  after(async () => {
    await gatewayMetrics?.close();
    await bed?.stop();
  });

  it('refuses a scrape of the control plane without the metrics token, or with a user token', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef', `Bearer ${bed.token}`]) {
      const answer = await fetch(`${bed.server}/metrics`, { headers: authorization ? { authorization } : {} });
      assert.equal(answer.status, 401);
      assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'unauthenticated');
    }
  });

  it('counts sessions, streams, bytes, recorded commands, refusals and log uploads as a session runs and ends', async () => {
    const cpBefore = await controlPlane();
    const gwBefore = await gateway();
    assert.equal(value(cpBefore, 'portcullis_sessions_active'), 0);
    assert.equal(value(cpBefore, 'portcullis_gateways_connected'), 1);
    assert.equal(value(gwBefore, 'portcullis_gateway_connected'), 1);
    assert.equal(value(gwBefore, 'portcullis_gateway_sessions_active'), 0);
    assert.equal(value(gwBefore, 'portcullis_gateway_commands_recorded_total'), 0);

    const handle = await startAccess({ server: bed.server, token: bed.token, accountId: bed.account.id, clientAgent: 'metrics-test' });
    const client = new MongoClient(handle.uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      const items = client.db('metrics').collection('items');
      assert.deepEqual(await items.find({}).toArray(), []);
      await assert.rejects(items.insertOne({ _id: 'x' } as never), /read-only/);

      const cp = await controlPlane();
      const gw = await gateway();
      assert.equal(value(cp, 'portcullis_sessions_active'), 1);
      assert.ok(value(cp, 'portcullis_relay_streams') >= 1, 'the relay carries the driver connection');
      assert.ok(value(cp, 'portcullis_relay_bytes_total{direction="from_client"}') > 0);
      assert.ok(value(cp, 'portcullis_relay_bytes_total{direction="to_client"}') > 0);
      assert.equal(value(gw, 'portcullis_gateway_sessions_active'), 1);
      assert.ok(value(gw, 'portcullis_gateway_streams') >= 1);
      assert.ok(value(gw, 'portcullis_gateway_bytes_total{direction="from_client"}') > 0);
      assert.ok(value(gw, 'portcullis_gateway_bytes_total{direction="to_client"}') > 0);
      assert.ok(value(gw, 'portcullis_gateway_commands_recorded_total') >= 2, 'find and the refused insert');
      assert.equal(value(gw, 'portcullis_gateway_refusals_total{reason="policy:read-only"}'), 1);
      const access = [...cp.keys()].find((k) =>
        k.startsWith('portcullis_http_request_duration_seconds_count{method="POST",route="/api/v1/accounts/:id/access",status="201"}'),
      );
      assert.ok(access && value(cp, access) >= 1, 'the access request is in the latency histogram');
    } finally {
      await client.close();
    }

    // The uploads: stored at the control plane, acknowledged (timed) at the gateway, nothing left behind.
    await waitFor(async () => value(await controlPlane(), 'portcullis_log_events_stored_total') >= 2, 'the log events to be stored');
    await waitFor(async () => value(await gateway(), 'portcullis_gateway_log_backlog_events') === 0, 'the backlog to empty');
    const gwUploaded = await gateway();
    assert.ok(value(gwUploaded, 'portcullis_gateway_log_upload_seconds_count') >= 1);
    assert.ok(value(await controlPlane(), 'portcullis_log_batch_store_seconds_count') >= 1);

    await handle.stop();
    await waitFor(async () => value(await controlPlane(), 'portcullis_sessions_active') === 0, 'the session to end');
    await waitFor(async () => value(await gateway(), 'portcullis_gateway_sessions_active') === 0, 'the gateway to drop it');
    const cpAfter = await controlPlane();
    const gwAfter = await gateway();
    assert.equal(value(cpAfter, 'portcullis_relay_streams'), 0);
    assert.equal(value(gwAfter, 'portcullis_gateway_streams'), 0);
    // Counters keep what closed connections carried.
    assert.ok(value(gwAfter, 'portcullis_gateway_bytes_total{direction="from_client"}') > 0);
    assert.ok(value(cpAfter, 'portcullis_relay_bytes_total{direction="to_client"}') > 0);
  });

  it('counts a wrong sign-in and a relay stream refused for its ticket', async () => {
    const anonymous = new ApiClient({ server: bed.server });
    await assert.rejects(anonymous.login({ email: 'nobody@example.com', password: 'wrong password' }));
    const url = new URL(`${bed.server}${API_PREFIX}${RELAY_PATH}`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, {
        headers: {
          connection: 'Upgrade',
          upgrade: RELAY_UPGRADE_PROTOCOL,
          authorization: 'Ticket not-a-ticket',
          [RELAY_SESSION_HEADER]: 'ses_aaaaaaaaaaaaaaaaaaaa',
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('upgrade', () => reject(new Error('a bad ticket was upgraded')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 401);
    const cp = await controlPlane();
    assert.equal(value(cp, 'portcullis_sign_in_failures_total{reason="wrong_credentials"}'), 1);
    assert.equal(value(cp, 'portcullis_relay_refusals_total{reason="unauthenticated"}'), 1);
  });
});
