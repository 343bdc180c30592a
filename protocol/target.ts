import type { AccountPolicy } from './policy';

/**
 * What a gateway needs to reach one MongoDB deployment as one account. The control plane sends it over the
 * gateway's authenticated control channel, only for an active session assigned to that gateway; the gateway
 * keeps it in memory only.
 */
export interface MongoTarget {
  /** `mongodb://host[:port][,host...]/?options` or `mongodb+srv://name/?options`, without credentials or database. */
  connectionString: string;
  /** Database the account authenticates against (default `admin`). */
  authDatabase: string;
  tls: {
    enabled: boolean;
    /** Verify the server certificate (and its hostname). */
    rejectUnauthorized: boolean;
    /** Extra CA certificate(s), PEM. */
    caCertificate?: string;
  };
  username: string;
  password: string;
  /** The resource's name: what a client is shown instead of internal host names and addresses. */
  resourceName?: string;
  /** The account's name, as refusals by its policy name it. */
  accountName?: string;
  /** What the session may do (absent: the default, read-write with nothing denied). */
  policy?: AccountPolicy;
}
