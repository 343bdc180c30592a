/**
 * Why the control plane could not listen, in words that say what to change. Node's own message
 * ("listen EADDRINUSE: address already in use 127.0.0.1:8443") names neither the setting nor what to do.
 */
export function listenError(error: unknown, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException)?.code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new Error(
        `cannot listen on ${where}: port ${port} is already in use (another Portcullis, or another program); ` +
          'stop that, or choose another port with --port or PORTCULLIS_PORT',
        { cause: error },
      );
    case 'EACCES':
      return new Error(
        `cannot listen on ${where}: not allowed to use port ${port} (ports below 1024 need privileges); ` +
          'choose another port with --port or PORTCULLIS_PORT',
        { cause: error },
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Error(
        `cannot listen on ${where}: ${host} is not an address of this machine; choose another with --host or PORTCULLIS_HOST`,
        { cause: error },
      );
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}
