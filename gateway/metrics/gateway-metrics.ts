/**
 * The gateway's Prometheus metrics (prom-client, a registry of its own so several agents in one process, as in the
 * tests, never share counters). Counters move where things happen (the agent calls the `on…` methods); gauges are
 * read from the agent when scraped.
 */
import type { Duplex } from 'node:stream';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SessionLogEvent } from '../../protocol/session-log';

/** What the gauges read when scraped. */
export interface GatewayMetricsSource {
  /** 1 while the control channel is online. */
  connected(): boolean;
  /** Sessions whose credentials this gateway holds. */
  activeSessions(): number;
  /** Client connections being served. */
  streams(): number;
  /** Log events not yet acknowledged by the control plane (in memory and spool). */
  logBacklog(): number;
}

/** A client byte stream's counters (net.Socket has them; an in-process stream may not). */
interface ByteCounted {
  bytesRead?: number;
  bytesWritten?: number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly commands: Counter;
  private readonly refusals: Counter<'reason'>;
  private readonly uploadSeconds: Histogram;
  private readonly live = new Set<ByteCounted>();
  /** Bytes of connections that closed (live ones are read from their sockets when scraped). */
  private readonly closedBytes = { fromClient: 0, toClient: 0 };

  constructor(source: GatewayMetricsSource) {
    const registers = [this.registry];
    new Gauge({
      name: 'portcullis_gateway_connected',
      help: '1 while the gateway has its control channel to the control plane, else 0',
      registers,
      collect() {
        this.set(source.connected() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'portcullis_gateway_sessions_active',
      help: 'Sessions whose credentials this gateway holds now',
      registers,
      collect() {
        this.set(source.activeSessions());
      },
    });
    new Gauge({
      name: 'portcullis_gateway_streams',
      help: 'Client connections this gateway serves now',
      registers,
      collect() {
        this.set(source.streams());
      },
    });
    new Gauge({
      name: 'portcullis_gateway_log_backlog_events',
      help: 'Recorded events not yet acknowledged by the control plane',
      registers,
      collect() {
        this.set(source.logBacklog());
      },
    });
    const live = this.live;
    const closed = this.closedBytes;
    new Counter({
      name: 'portcullis_gateway_bytes_total',
      help: 'Bytes relayed between clients and the gateway (from_client: commands, to_client: replies)',
      labelNames: ['direction'],
      registers,
      collect() {
        let fromClient = closed.fromClient;
        let toClient = closed.toClient;
        for (const socket of live) {
          fromClient += socket.bytesRead ?? 0;
          toClient += socket.bytesWritten ?? 0;
        }
        this.reset();
        this.inc({ direction: 'from_client' }, fromClient);
        this.inc({ direction: 'to_client' }, toClient);
      },
    });
    this.commands = new Counter({
      name: 'portcullis_gateway_commands_recorded_total',
      help: 'Client commands recorded for the session log (handshake and monitoring commands are not)',
      registers,
    });
    this.refusals = new Counter({
      name: 'portcullis_gateway_refusals_total',
      help: 'Commands refused by an account policy (reason policy:<rule>) and client connections refused (reason stream:<why>)',
      labelNames: ['reason'],
      registers,
    });
    this.uploadSeconds = new Histogram({
      name: 'portcullis_gateway_log_upload_seconds',
      help: 'From sending a log batch to the control plane until it acknowledged storing it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  onConnectionOpened(socket: Duplex): void {
    this.live.add(socket as ByteCounted);
  }

  onConnectionClosed(socket: Duplex): void {
    const counted = socket as ByteCounted;
    if (!this.live.delete(counted)) return;
    this.closedBytes.fromClient += counted.bytesRead ?? 0;
    this.closedBytes.toClient += counted.bytesWritten ?? 0;
  }

  onEvent(event: SessionLogEvent): void {
    if (event.kind !== 'command') return;
    this.commands.inc();
    if (event.outcome === 'refused') this.refusals.inc({ reason: `policy:${event.policy ?? 'unknown'}` });
  }

  onStreamRefused(reason: 'stopping' | 'log_buffer_full' | 'session_ended' | 'credentials' | 'stream_failed' | 'tunnel'): void {
    this.refusals.inc({ reason: `stream:${reason}` });
  }

  onLogsAcknowledged(seconds: number): void {
    this.uploadSeconds.observe(seconds);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
