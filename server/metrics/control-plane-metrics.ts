/**
 * The control plane's Prometheus metrics (prom-client, a registry per control plane: tests run several in one
 * process). Counters and histograms move where things happen; gauges and the relay's counters are read when scraped.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What this replica's relay has carried (relay.ts `stats()`). */
export interface RelayCounts {
  gateways: number;
  streams: number;
  bytesFromClients: number;
  bytesToClients: number;
  /** Client streams refused, by API error code. */
  refusals: Readonly<Record<string, number>>;
}

export interface ControlPlaneMetricsSource {
  /** Active sessions in the database (all replicas). */
  activeSessions(): Promise<number>;
  relay(): RelayCounts;
}

export type SignInFailure = 'wrong_credentials' | 'rate_limited';

export class ControlPlaneMetrics {
  readonly registry = new Registry();
  private readonly requestSeconds: Histogram<'method' | 'route' | 'status'>;
  private readonly signInFailures: Counter<'reason'>;
  private readonly eventsStored: Counter;
  private readonly batchSeconds: Histogram;
  private source: ControlPlaneMetricsSource | undefined;

  constructor() {
    const registers = [this.registry];
    const metrics = this;
    new Gauge({
      name: 'portcullis_sessions_active',
      help: 'Active sessions (in the database: every replica together)',
      registers,
      async collect() {
        if (metrics.source) this.set(await metrics.source.activeSessions());
      },
    });
    new Gauge({
      name: 'portcullis_gateways_connected',
      help: 'Gateways with a control channel to this replica',
      registers,
      collect() {
        if (metrics.source) this.set(metrics.source.relay().gateways);
      },
    });
    new Gauge({
      name: 'portcullis_relay_streams',
      help: 'Client connections this replica relays now',
      registers,
      collect() {
        if (metrics.source) this.set(metrics.source.relay().streams);
      },
    });
    new Counter({
      name: 'portcullis_relay_bytes_total',
      help: "Bytes this replica relayed on clients' streams (from_client: to the gateway, to_client: back to the client)",
      labelNames: ['direction'],
      registers,
      collect() {
        if (!metrics.source) return;
        const relay = metrics.source.relay();
        this.reset();
        this.inc({ direction: 'from_client' }, relay.bytesFromClients);
        this.inc({ direction: 'to_client' }, relay.bytesToClients);
      },
    });
    new Counter({
      name: 'portcullis_relay_refusals_total',
      help: 'Client streams the relay refused, by error code (unauthenticated, session_not_active, gateway_offline, …)',
      labelNames: ['reason'],
      registers,
      collect() {
        if (!metrics.source) return;
        this.reset();
        for (const [reason, count] of Object.entries(metrics.source.relay().refusals)) this.inc({ reason }, count);
      },
    });
    this.signInFailures = new Counter({
      name: 'portcullis_sign_in_failures_total',
      help: 'Refused sign-ins: wrong_credentials (unknown email or wrong password) or rate_limited (held back by the limits)',
      labelNames: ['reason'],
      registers,
    });
    this.eventsStored = new Counter({
      name: 'portcullis_log_events_stored_total',
      help: 'Session log events (commands and connections) stored from gateways, each once',
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'portcullis_log_batch_store_seconds',
      help: "Time to store one gateway log batch (the gateway waits for it before it may forget the batch's events)",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'portcullis_http_request_duration_seconds',
      help: 'JSON API requests, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  /** The gauges' sources, once the relay exists (until then they read nothing). */
  setSource(source: ControlPlaneMetricsSource): void {
    this.source = source;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requestSeconds.observe({ method, route, status: String(status) }, seconds);
  }

  signInFailed(reason: SignInFailure): void {
    this.signInFailures.inc({ reason });
  }

  logBatchStored(events: number, seconds: number): void {
    this.eventsStored.inc(events);
    this.batchSeconds.observe(seconds);
  }

  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
