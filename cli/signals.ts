/** Waiting for Ctrl+C (SIGINT) or SIGTERM, for the commands that run until stopped. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Force-quits on a second Ctrl+C while shutting down, so a stuck close never traps the user. */
export function exitOnSecondSignal(code = 130): void {
  const onSignal = () => process.exit(code);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
