/**
 * The benchmark's unencrypted reference for the inner TLS (end-to-end encryption): both ends hand the relayed stream
 * over as it is, with no handshake. It exists only so that one run can show what the inner TLS costs (the section
 * "End-to-end encryption: what the inner TLS costs"); the product has no way to choose it: `portcullis gateway start`
 * and the local proxies of the CLI and the extension always run tunnel/tls.ts, and the gateway never serves a stream
 * in clear whatever the control plane says. The bench programs take it when BENCH_PLAIN_TUNNEL=1.
 */
import type { Duplex } from 'node:stream';
import type { TunnelAcceptor, TunnelConnector } from '../../tunnel/tls';

const asItIs = (socket: Duplex): Promise<Duplex> => Promise.resolve(socket);

export const plainConnector: TunnelConnector = asItIs;
export const plainAcceptor: TunnelAcceptor = asItIs;

/** Whether this bench program runs the unencrypted reference path. */
export const plainTunnelRequested = (): boolean => process.env.BENCH_PLAIN_TUNNEL === '1';
