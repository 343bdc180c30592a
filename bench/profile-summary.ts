/**
 * `npx tsx bench/profile-summary.ts DIR [TOP]`: the functions with the most self time in each .cpuprofile under
 * DIR (written by `npm run bench -- --cpu-prof DIR`), so a missed target points at code, not at a guess.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

/** Self time per function (summed over call sites), biggest first. */
export function hotFunctions(profile: CpuProfile, top: number): HotFunction[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const byFunction = new Map<string, HotFunction>();
  for (const [id, us] of selfUs) {
    const frame = byNode.get(id)?.callFrame;
    if (!frame) continue;
    const name = frame.functionName || '(anonymous)';
    const file = frame.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/)/, '$1');
    const where = file ? `${file.split('/').slice(-3).join('/')}:${frame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const entry = byFunction.get(key) ?? { name, where, selfMs: 0, share: 0 };
    entry.selfMs += us / 1000;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .map((f) => ({ ...f, share: (f.selfMs * 1000) / total }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top);
}

function findProfiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findProfiles(path);
    return name.endsWith('.cpuprofile') ? [path] : [];
  });
}

if (require.main === module) {
  const [dir, topText] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: npx tsx bench/profile-summary.ts DIR [TOP]\n');
    process.exit(2);
  }
  for (const file of findProfiles(dir)) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    process.stdout.write(`\n## ${relative(dir, file)}\n\n| self ms | share | function | where |\n|---:|---:|---|---|\n`);
    for (const f of hotFunctions(profile, Number(topText ?? 25))) {
      process.stdout.write(`| ${f.selfMs.toFixed(0)} | ${(f.share * 100).toFixed(1)}% | ${f.name} | ${f.where} |\n`);
    }
  }
}
