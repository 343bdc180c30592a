/**
 * Commands counted but not logged line by line: the handshake and monitoring chatter every driver sends on
 * every connection (and every few seconds on monitor connections). They read no data and change nothing, and
 * logging them would bury the user's own commands. Everything else, including buildInfo and the authentication
 * commands the gateway refuses, is logged.
 */
const HANDSHAKE_COMMANDS: ReadonlySet<string> = new Set(['hello', 'isMaster', 'ismaster', 'ping']);

export function isHandshakeCommand(name: string): boolean {
  return HANDSHAKE_COMMANDS.has(name);
}
