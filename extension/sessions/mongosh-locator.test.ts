import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, it } from 'node:test';
import { locateExecutable } from './mongosh-locator';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-locate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('finds a bare name on PATH, accepts an executable path, and refuses missing or non-executable files', () => {
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  mkdirSync(a);
  mkdirSync(b);
  writeFileSync(join(a, 'mongosh'), 'not executable');
  writeFileSync(join(b, 'mongosh'), '#!/bin/sh\n');
  chmodSync(join(b, 'mongosh'), 0o755);
  mkdirSync(join(a, 'tool'));
  assert.equal(locateExecutable('mongosh', [a, b].join(delimiter)), join(b, 'mongosh'));
  assert.equal(locateExecutable('mongosh', a), undefined);
  assert.equal(locateExecutable(join(b, 'mongosh'), ''), join(b, 'mongosh'));
  assert.equal(locateExecutable(join(a, 'mongosh'), ''), undefined);
  assert.equal(locateExecutable('tool', a), undefined);
  assert.equal(locateExecutable('', a), undefined);
});
