import type { Flag } from './schema';

/** Booleans are stored as integer 0/1 on both dialects (see schema.ts). */
export function toFlag(value: boolean): Flag {
  return value ? 1 : 0;
}

export function fromFlag(value: number): boolean {
  return value !== 0;
}
