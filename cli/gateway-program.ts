/**
 * `portcullis-gateway`: the single-file gateway's command (scripts/package-gateway.ts builds it). Only `start`, the
 * same command as `portcullis gateway start`: the gateway machine needs no control-plane or user commands.
 */
import type { Command } from 'commander';
import { buildProgram } from './build-program';
import { registerGatewayStart } from './commands/gateway-start';

// The CLI's list is about users' commands (signing in, sessions); the gateway's own failures all exit with 1.
const GATEWAY_EXIT_CODES_HELP = '\nExit codes: 0 stopped cleanly (Ctrl+C or SIGTERM); not 0: it could not start (the message says why).';

export function createGatewayProgram(): Command {
  return buildProgram(
    'portcullis-gateway',
    'The Portcullis gateway: reaches your MongoDB databases and logs in for your users.',
    [registerGatewayStart],
    GATEWAY_EXIT_CODES_HELP,
  );
}
