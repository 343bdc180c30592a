// Placeholder entry point; the extension is built in extension/.
export function activate(): void {}
export function deactivate(): void {}
