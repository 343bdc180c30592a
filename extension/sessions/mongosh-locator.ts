import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * Resolves the `portcullis.mongoshPath` setting to an executable file: a path (absolute, or with a
 * separator) is checked as is, a bare name is searched on PATH. Undefined when there is no such executable,
 * so the caller can say so instead of opening a terminal that fails at once.
 */
export function locateExecutable(nameOrPath: string, pathEnv: string | undefined = process.env.PATH): string | undefined {
  const value = nameOrPath.trim();
  if (!value) return undefined;
  if (isAbsolute(value) || value.includes('/') || value.includes('\\')) return isExecutable(value) ? value : undefined;
  const extensions = process.platform === 'win32' ? ['.exe', '.cmd', '.bat', ''] : [''];
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const ext of extensions) {
      const candidate = join(dir, value + ext);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const MONGOSH_INSTALL_PAGE = 'https://www.mongodb.com/docs/mongodb-shell/install/';
