import assert from 'node:assert/strict';
import { it } from 'node:test';
import { cliAccessCommand } from './cli-command';

it('builds the exact CLI line, quoting names a shell would split or expand', () => {
  assert.equal(cliAccessCommand('orders-db', 'reader'), 'portcullis access --resource orders-db --account reader');
  assert.equal(cliAccessCommand('prod orders', "ops's"), `portcullis access --resource 'prod orders' --account 'ops'\\''s'`);
  assert.equal(cliAccessCommand('a$b', 'x'), `portcullis access --resource 'a$b' --account x`);
});
