import { ensureNodeBinary, isNodeLine, type NodeLine } from '../../scripts/node-binary';
import { testCacheDir } from './cache';

/** That Node.js line's binary in the test cache (installed by the test setup; installs it if missing). */
export function testNodeBinary(major: NodeLine, log?: (line: string) => void): string {
  return ensureNodeBinary(major, testCacheDir('node'), log);
}

/** The lines named in a comma-separated list ("24,22"), refusing a line we do not install. */
export function parseNodeLines(list: string | undefined): NodeLine[] {
  const lines = (list ?? '').split(',').filter((item) => item.trim() !== '' && item !== 'machine');
  return lines.map((item) => {
    const major = Number(item);
    if (!isNodeLine(major)) throw new Error(`Node.js "${item}" is not one of the lines the tests install (22, 24, 26)`);
    return major;
  });
}
