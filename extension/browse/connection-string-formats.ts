import ConnectionString from 'mongodb-connection-string-url';

/**
 * The formats Copy Connection String offers for a session's local address (`mongodb://127.0.0.1:PORT/`, no
 * credentials: the gateway logs in).
 *
 * - **plain**: the address as the session hands it out, for mongosh and drivers. It needs no directConnection: the
 *   gateway presents the deployment as one server (a mongos), so clients never try to discover other hosts.
 * - **compass**: MongoDB Compass takes a standard `mongodb://` URI in New Connection. It is given `directConnection=true`
 *   explicitly, which Compass itself adds to a one-host URI when it saves a connection (its connection model converts
 *   a single host that way), so the form shows "Direct Connection" ticked and Authentication "None" from the start.
 * - **mongodbVscode**: MongoDB for VS Code's "Connect with Connection String" accepts a URI beginning with
 *   `mongodb://` or `mongodb+srv://` that mongodb-connection-string-url parses; the same URI with
 *   `directConnection=true`, which is also what the Atlas CLI hands that extension for a local deployment.
 *
 * Neither gets an `appName`: without one, Compass names itself "MongoDB Compass" and the VS Code extension
 * "mongodb-vscode <version>" in the handshake, which the gateway records with each connection of the session, so the
 * log says which tool connected. Both copies work only while the session runs (the port is the session's).
 */
export const CONNECTION_STRING_FORMATS = Object.freeze({
  plain: {
    label: 'Connection string',
    detail: 'For mongosh, drivers and other MongoDB tools.',
    paste: 'Use it with mongosh or a driver',
  },
  compass: {
    label: 'MongoDB Compass',
    detail: 'In Compass: New Connection, paste it into URI, Connect. Authentication stays None.',
    paste: 'In Compass: New Connection, paste it into URI, then Connect',
  },
  mongodbVscode: {
    label: 'MongoDB for VS Code',
    detail: 'Run "MongoDB: Connect with Connection String" and paste it.',
    paste: 'Run "MongoDB: Connect with Connection String" and paste it',
  },
} as const);

export type ConnectionStringFormat = keyof typeof CONNECTION_STRING_FORMATS;

export function connectionStringFor(uri: string, format: ConnectionStringFormat): string {
  if (format === 'plain') return uri;
  const connectionString = new ConnectionString(uri);
  connectionString.searchParams.set('directConnection', 'true');
  return connectionString.toString();
}
