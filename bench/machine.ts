/** What the results were measured on, for the header of the results file. */
import { spawnSync } from 'node:child_process';
import { cpus, hostname, totalmem } from 'node:os';

export interface MachineInfo {
  hostname: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  openssh: string;
  ferretdb: string;
}

export function describeMachine(ferretdbVersion: string): MachineInfo {
  const list = cpus();
  return {
    hostname: hostname(),
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    openssh: opensshVersion(),
    ferretdb: ferretdbVersion,
  };
}

function opensshVersion(): string {
  // `ssh -V` prints its version on stderr.
  const result = spawnSync('/usr/bin/ssh', ['-V'], { encoding: 'utf8' });
  return `${result.stderr ?? ''}${result.stdout ?? ''}`.trim().split(',')[0] || 'unknown';
}
