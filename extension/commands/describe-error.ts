/** A one-line, user-facing description of a failure. ApiError messages are written for users already. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
