/**
 * Test Connection as admins meet it: the gateway tries the settings (and signs in, given an account) and its exact
 * answer is shown. Before saving, a failure asks whether to save anyway or change the settings; from the context
 * menu it offers to edit what failed. Long gateway messages go in a modal's detail, where they are never cut off.
 */
import * as vscode from 'vscode';
import type { ConnectionTestDto } from '../../protocol/api';
import { isApiError } from '../../proxy-core/api-client';
import { displayMessage } from '../../proxy-core/display-text';

export const TEST_CHOICES = Object.freeze({ saveAnyway: 'Save Anyway', change: 'Change Settings' } as const);

/** The test's answer, or why it could not run (the gateway is offline or not connected). */
export type TestOutcome = { result: ConnectionTestDto } | { notRun: string };

/** `passed` (or `notRun`): save; `save`: failed, saved anyway; `change`: ask again; `cancel`: stop, nothing saved. */
export type TestVerdict =
  | { kind: 'passed'; result: ConnectionTestDto }
  | { kind: 'save'; outcome: TestOutcome }
  | { kind: 'change' }
  | { kind: 'cancel' };

/** Runs a test under a progress notification; a gateway that cannot run it is an outcome, not an error. */
export async function runConnectionTest(subject: string, test: () => Promise<ConnectionTestDto>): Promise<TestOutcome> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Portcullis: testing the connection to ${subject}…` },
    async () => {
      try {
        return { result: await test() };
      } catch (error) {
        if (isApiError(error, 'gateway_offline')) return { notRun: displayMessage(error.message) };
        throw error;
      }
    },
  );
}

/**
 * What a passed test found, in a few words: "SCRAM-SHA-256, 12 ms" (signed in), "primary, 8 ms" (reached). Kept short:
 * VS Code shows a notification without buttons on one line.
 */
export function describePassedTest(result: ConnectionTestDto): string {
  const what = result.stage === 'authenticate' ? (result.mechanism ?? 'signed in') : (result.serverRole ?? 'reached');
  return displayMessage(`${what}, ${result.durationMs} ms`);
}

/** Tests settings before they are saved and asks what to do when the test fails. */
export async function testBeforeSaving(subject: string, test: () => Promise<ConnectionTestDto>): Promise<TestVerdict> {
  const outcome = await runConnectionTest(subject, test);
  if ('result' in outcome && outcome.result.ok) return { kind: 'passed', result: outcome.result };
  const [message, detail] =
    'notRun' in outcome
      ? [`The connection to ${subject} could not be tested.`, outcome.notRun]
      : [`The connection test of ${subject} failed.`, `${displayMessage(outcome.result.message)}\n\n${stageHint(outcome.result)}`];
  const choice = await vscode.window.showWarningMessage(message, { modal: true, detail }, TEST_CHOICES.saveAnyway, TEST_CHOICES.change);
  if (choice === TEST_CHOICES.saveAnyway) return { kind: 'save', outcome };
  if (choice === TEST_CHOICES.change) return { kind: 'change' };
  return { kind: 'cancel' };
}

/**
 * The Test Connection command's answer: an information message when it passed; otherwise a modal with the gateway's
 * message and `fix` (e.g. "Edit Account"). Resolves true when the user chose `fix`.
 */
export async function showTestResult(subject: string, outcome: TestOutcome, fix: string): Promise<boolean> {
  if ('result' in outcome && outcome.result.ok) {
    void vscode.window.showInformationMessage(`${subject}: connection OK (${describePassedTest(outcome.result)}).`);
    return false;
  }
  const [message, detail] =
    'notRun' in outcome
      ? [`The connection to ${subject} could not be tested.`, outcome.notRun]
      : [`Test Connection of ${subject} failed.`, `${displayMessage(outcome.result.message)}\n\n${stageHint(outcome.result)}`];
  return (await vscode.window.showErrorMessage(message, { modal: true, detail }, fix)) === fix;
}

function stageHint(result: ConnectionTestDto): string {
  if (result.stage === 'authenticate') return 'The database was reached; signing in failed: check the user name and password.';
  if (result.stage === 'reach') return 'The gateway could not reach the database: check the connection string, network and TLS settings.';
  return 'The gateway did not answer.';
}
