/**
 * Checks a resource's MongoDB connection string. Credentials belong in accounts and the authentication
 * database in its own field, so a string carrying either is refused. Messages never repeat the string:
 * it may hold a password.
 */
import ConnectionString from 'mongodb-connection-string-url';
import { invalid } from './service-error';

export function checkConnectionString(value: string): string {
  const trimmed = value.trim();
  if (!/^mongodb(\+srv)?:\/\//i.test(trimmed)) {
    throw invalid('connectionString: must start with mongodb:// or mongodb+srv://');
  }
  let parsed: ConnectionString;
  try {
    parsed = new ConnectionString(trimmed);
  } catch {
    throw invalid(
      'connectionString: not a valid MongoDB connection string (mongodb://host[:port][,host...]/?options or mongodb+srv://name/?options)',
    );
  }
  for (const host of parsed.hosts) {
    const port = /^(?:\[[^\]]+\]|[^:]+)(?::(.*))?$/.exec(host)?.[1];
    if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
      throw invalid('connectionString: a host has a port that is not a number from 1 to 65535');
    }
  }
  if (parsed.username || parsed.password) {
    throw invalid('connectionString: put the username and password in an account, not in the connection string');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database !== '') {
    throw invalid('connectionString: set the authentication database in the auth database field, not in the connection string');
  }
  if (parsed.searchParams.has('authSource')) {
    throw invalid('connectionString: set the authentication database in the auth database field, not as authSource');
  }
  return trimmed;
}
