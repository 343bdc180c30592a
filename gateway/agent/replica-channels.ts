/**
 * The gateway's control channels when the control plane runs as several replicas behind a load balancer: one
 * channel to the starting address (any replica), and one to each live replica the control plane names (`welcome`,
 * `replicas`), opened and closed as replicas join and leave. A user's stream arrives at one replica, which sends
 * `stream.open` on its own channel; the data stream must be opened at that replica's address, so each message is
 * passed on with the channel it came on. With one replica (or one reached at the starting address) this is a single
 * channel, as before.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { GATEWAY_CHANNEL_PATH, type GatewayToServer, type ReplicaInfo, type ServerToGateway } from '../../protocol/gateway-channel';
import { type ChannelStatus, ControlChannel, type ControlChannelOptions, webSocketUrl } from './control-channel';

/** The channel a message came on: answers that concern its replica go back on it. */
export interface ChannelOrigin {
  /** The address the channel connects to: data streams for its `stream.open`s are opened there. */
  server: string;
  send(message: GatewayToServer): boolean;
}

export interface ReplicaChannelsEvents {
  status: [ChannelStatus];
  welcome: [Extract<ServerToGateway, { type: 'welcome' }>];
  message: [ServerToGateway, ChannelOrigin];
  rejected: [string];
  /** One channel that was online dropped (others may still be): what was sent on it may never be answered. */
  'channel-lost': [server: string];
}

export type ReplicaChannelsOptions = Omit<ControlChannelOptions, 'instance' | 'replicaId'>;

export class ReplicaChannels extends EventEmitter<ReplicaChannelsEvents> {
  /** This process run, told in every hello so that a replica keeps all of its channels. */
  readonly instance = `gwi_${randomBytes(9).toString('base64url')}`;
  private readonly starting: ControlChannel;
  /** By replica id. */
  private readonly direct = new Map<string, ControlChannel>();
  private currentStatus: ChannelStatus = 'offline';
  private stopped = false;
  /** The replica the starting address's channel reached (its last welcome). */
  private startingReplicaId: string | undefined;
  private lastReplicas: ReplicaInfo[] = [];

  constructor(private readonly options: ReplicaChannelsOptions) {
    super();
    this.starting = this.open({ ...options });
    this.starting.on('welcome', (welcome) => {
      this.startingReplicaId = welcome.replicaId;
      this.follow(welcome.replicas ?? this.lastReplicas);
    });
  }

  get status(): ChannelStatus {
    return this.currentStatus;
  }

  /** Replica ids this gateway keeps a channel to, besides the starting address. */
  replicaIds(): string[] {
    return [...this.direct.keys()];
  }

  start(): void {
    this.stopped = false;
    this.starting.start();
  }

  /**
   * Sends on one online channel (the starting address's first): messages every replica handles alike (heartbeat
   * replies aside, each channel has its own). False when no channel is online.
   */
  send(message: GatewayToServer): boolean {
    for (const channel of this.channels()) if (channel.send(message)) return true;
    return false;
  }

  stop(): void {
    this.stopped = true;
    for (const channel of this.channels()) channel.stop();
    this.direct.clear();
    this.updateStatus();
  }

  private *channels(): Iterable<ControlChannel> {
    yield this.starting;
    yield* this.direct.values();
  }

  private open(options: ControlChannelOptions): ControlChannel {
    const channel = new ControlChannel({ ...options, instance: this.instance });
    const origin: ChannelOrigin = { server: options.server, send: (message) => channel.send(message) };
    let wasOnline = false;
    channel.on('status', (status) => {
      if (wasOnline && status !== 'online') this.emit('channel-lost', options.server);
      wasOnline = status === 'online';
      this.updateStatus();
    });
    channel.on('rejected', (message) => this.emit('rejected', message));
    channel.on('welcome', (welcome) => {
      if (welcome.replicas && channel !== this.starting) this.follow(welcome.replicas);
      this.emit('welcome', welcome);
    });
    channel.on('message', (message) => {
      if (message.type === 'replicas') {
        this.follow(message.replicas);
        return;
      }
      this.emit('message', message, origin);
    });
    return channel;
  }

  /** Opens a channel to each live replica not reached yet, and closes those to replicas that left. */
  private follow(replicas: ReplicaInfo[]): void {
    if (this.stopped || !Array.isArray(replicas)) return;
    this.lastReplicas = replicas;
    const startingUrl = channelUrl(this.options.server);
    const wanted = new Map<string, string>();
    // One replica, already reached at the starting address: that channel is all there is to have (as before replicas).
    const alone = replicas.length === 1 && replicas[0]?.id === this.startingReplicaId;
    for (const replica of alone ? [] : replicas) {
      if (typeof replica?.id !== 'string' || typeof replica.url !== 'string') continue;
      // One reached at the starting address itself (no balancer in between) needs no second channel.
      if (channelUrl(replica.url) === startingUrl) continue;
      wanted.set(replica.id, replica.url);
    }
    for (const [id, channel] of [...this.direct]) {
      if (!wanted.has(id)) {
        this.options.log('info', `control plane replica ${id} left; closing its channel`);
        channel.stop();
        this.direct.delete(id);
      }
    }
    for (const [id, url] of wanted) {
      if (this.direct.has(id)) continue;
      if (!isHttpUrl(url)) {
        this.options.log('warn', `control plane replica ${id} has an address that is not http(s): ${url}`);
        continue;
      }
      this.options.log('info', `control plane replica ${id} at ${url}; opening a channel to it`);
      const channel = this.open({ ...this.options, server: url, replicaId: id });
      this.direct.set(id, channel);
      channel.start();
    }
    this.updateStatus();
  }

  /** Online when any channel is: every replica can take credentials requests and log batches. */
  private updateStatus(): void {
    const statuses = [...this.channels()].map((c) => c.status);
    const status: ChannelStatus = this.stopped
      ? 'offline'
      : statuses.includes('online')
        ? 'online'
        : statuses.includes('connecting')
          ? 'connecting'
          : 'offline';
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    this.emit('status', status);
  }
}

function channelUrl(server: string): string {
  try {
    return webSocketUrl(server, GATEWAY_CHANNEL_PATH);
  } catch {
    return server;
  }
}

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
