/** Prints a connection test's result; a failed test ends the command with exit code 1 and the gateway's words. */
import type { ConnectionTestDto } from '../../protocol/api';
import { displayMessage } from '../../proxy-core/display-text';
import { CliError } from '../errors';
import { type OutputFormat, printJson, printText } from './output-mode';

export function reportConnectionTest(result: ConnectionTestDto, output: OutputFormat): void {
  if (output === 'json') printJson(result);
  else if (result.ok) printText(`OK (${result.durationMs} ms): ${displayMessage(result.message)}`);
  if (!result.ok) throw new CliError(`the test failed at ${result.stage} (${result.durationMs} ms): ${displayMessage(result.message)}`);
}
