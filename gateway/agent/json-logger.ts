/**
 * The gateway's log as JSON lines (`portcullis gateway start --log-format json`): one line per event in the shape
 * every part writes (protocol/log-line.ts), for a log shipper rather than a person.
 */
import { formatLogLine, type LogLevel } from '../../protocol/log-line';
import type { GatewayLogFields, GatewayLogger } from './agent';

export function jsonGatewayLogger(out: { write(text: string): unknown }): GatewayLogger & {
  line(level: LogLevel, message: string, fields?: GatewayLogFields): void;
} {
  const line = (level: LogLevel, message: string, fields?: GatewayLogFields) => {
    out.write(`${formatLogLine('gateway', level, message, { ...fields })}\n`);
  };
  return {
    line,
    info: (message, fields) => line('info', message, fields),
    warn: (message, fields) => line('warn', message, fields),
    error: (message, fields) => line('error', message, fields),
  };
}
