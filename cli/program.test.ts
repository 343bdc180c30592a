import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { createProgram } from './program';

function allCommands(command: Command, path: string[] = []): { path: string; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const here = [...path, sub.name()];
    return [{ path: here.join(' '), command: sub }, ...allCommands(sub, here)];
  });
}

describe('the command registry', () => {
  const commands = allCommands(createProgram());
  const paths = commands.map((c) => c.path);

  it('registers every command of the CLI', () => {
    for (const expected of [
      'login',
      'logout',
      'whoami',
      'access',
      'session list',
      'session show',
      'session logs',
      'session terminate',
      'resource create',
      'resource list',
      'resource show',
      'resource update',
      'resource delete',
      'account create',
      'account list',
      'account show',
      'account update',
      'account delete',
      'gateway enroll-token',
      'gateway start',
      'gateway list',
      'server',
      'server bootstrap',
      'start',
    ]) {
      assert.ok(paths.includes(expected), `missing: portcullis ${expected}`);
    }
  });

  it('offers --output json on every listing and show command and on access', () => {
    for (const { path, command } of commands) {
      if (!/(^| )(list|show|logs)$|^access$|^whoami$/.test(path)) continue;
      const output = command.options.find((o) => o.long === '--output');
      assert.ok(output, `portcullis ${path} lacks --output`);
      assert.deepEqual(output.argChoices, ['table', 'json']);
    }
  });

  it('takes no password or token value on the command line except the one-time gateway enrollment token', () => {
    for (const { path, command } of commands) {
      for (const option of command.options) {
        const takesValue = option.required || option.optional;
        if (!takesValue) continue;
        assert.doesNotMatch(option.long ?? '', /password|secret|credential$/, `portcullis ${path} ${option.flags}`);
        if (/token/.test(option.long ?? '')) assert.equal(path, 'gateway start', `portcullis ${path} ${option.flags}`);
      }
    }
  });
});
