/*
 * The databases an account may use: names and glob patterns (`*` any run of characters, possibly empty; `?` exactly
 * one character; nothing else is special), compared case-sensitively like MongoDB database names.
 *
 * Matched by a small wildcard matcher rather than a RegExp: the name being matched comes from the client (`$db`,
 * `$out` targets), and a RegExp built from `*a*a*a*b` backtracks exponentially on a long name of `a`s. The
 * two-cursor matcher below never goes back further than the last `*`, so it costs at most (name x pattern) steps.
 */

/** Whether a database name is one the account may use. */
export type DatabaseMatcher = (name: string) => boolean;

/**
 * Longest name ever matched, in UTF-16 code units: MongoDB refuses database names of 64 bytes or more, so a longer
 * `$db` is not a database the server would use, and it is not matched (this bounds the matcher's work).
 */
export const MAX_MATCHED_NAME_LENGTH = 256;

const STAR = -1;
const ANY_ONE = -2;

/** Compiles the patterns once. No patterns: every name matches. */
export function compileDatabasePatterns(patterns: readonly string[]): DatabaseMatcher {
  if (patterns.length === 0) return () => true;
  const exact = new Set<string>();
  const globs: number[][] = [];
  for (const pattern of patterns) {
    if (!pattern.includes('*') && !pattern.includes('?')) exact.add(pattern);
    else globs.push(compileGlob(pattern));
  }
  return (name: string) => {
    if (exact.has(name)) return true;
    if (globs.length === 0 || name.length > MAX_MATCHED_NAME_LENGTH) return false;
    const points = codePoints(name);
    for (const glob of globs) if (globMatches(glob, points)) return true;
    return false;
  };
}

/** The pattern as code points, with `*` as STAR (consecutive stars as one) and `?` as ANY_ONE. */
function compileGlob(pattern: string): number[] {
  const out: number[] = [];
  for (const c of pattern) {
    if (c === '*') {
      if (out[out.length - 1] !== STAR) out.push(STAR);
    } else if (c === '?') {
      out.push(ANY_ONE);
    } else {
      out.push(c.codePointAt(0) as number);
    }
  }
  return out;
}

function codePoints(name: string): number[] {
  const out: number[] = [];
  for (const c of name) out.push(c.codePointAt(0) as number);
  return out;
}

/** Classic wildcard matching: on a mismatch, let the last `*` swallow one more character and try again from there. */
function globMatches(glob: readonly number[], name: readonly number[]): boolean {
  let g = 0;
  let n = 0;
  let starAt = -1;
  let starMatched = 0;
  while (n < name.length) {
    const token = glob[g];
    if (g < glob.length && (token === ANY_ONE || token === name[n])) {
      g++;
      n++;
    } else if (g < glob.length && token === STAR) {
      starAt = g++;
      starMatched = n;
    } else if (starAt !== -1) {
      g = starAt + 1;
      n = ++starMatched;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === STAR) g++;
  return g === glob.length;
}
