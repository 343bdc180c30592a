/**
 * `npm run bench [-- options]`: what the Portcullis tunnel costs against a direct connection and `ssh -L`, all on
 * loopback. Prints the table and saves it under bench/results/. See bench/README.md.
 */
import { join } from 'node:path';
import { runBench } from './bench-runner';
import { BenchUsageError, parseBenchOptions } from './options';

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2), process.env, join(__dirname, 'results'));
  const result = await runBench(options, (line) => process.stderr.write(`[bench] ${line}\n`));
  process.stdout.write(`\n${result.report.markdown}\n`);
  if (result.savedTo) process.stderr.write(`[bench] saved to ${result.savedTo}\n`);
  if (options.cpuProfDir)
    process.stderr.write(`[bench] CPU profiles in ${options.cpuProfDir} (summarize: npx tsx bench/profile-summary.ts DIR)\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(error instanceof BenchUsageError ? `${error.message}\n` : `[bench] failed: ${(error as Error).stack}\n`);
    process.exit(error instanceof BenchUsageError ? 2 : 1);
  },
);
