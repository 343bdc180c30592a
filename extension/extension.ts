// The VS Code extension's entry point: it only builds the composition root (portcullis-controller.ts).
import type * as vscode from 'vscode';
import { PortcullisController } from './portcullis-controller';
import { startAccessForExtension } from './sessions/start-access';

let controller: PortcullisController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  controller = new PortcullisController(context, { startAccess: startAccessForExtension });
  await controller.activate();
}

export async function deactivate(): Promise<void> {
  await controller?.deactivate();
  controller = undefined;
}
