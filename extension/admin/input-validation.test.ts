import assert from 'node:assert/strict';
import { it } from 'node:test';
import { validateConnectionString, validatePositiveMinutes } from './input-validation';

it('accepts mongodb:// and mongodb+srv:// addresses and refuses credentials in them without echoing them', () => {
  assert.equal(validateConnectionString('mongodb://db.internal:27017/'), undefined);
  assert.equal(validateConnectionString('mongodb+srv://cluster.internal/?tls=true'), undefined);
  assert.equal(validateConnectionString('mongodb://a:1,b:2/?replicaSet=rs0'), undefined);
  assert.match(validateConnectionString('http://db') ?? '', /start with mongodb:\/\//);
  const refusal = validateConnectionString('mongodb://root:hunter2@db.internal/') ?? '';
  assert.match(refusal, /leave out the user name and password/);
  assert.doesNotMatch(refusal, /hunter2|root/);
  // An @ after the host (in options) is not a credential.
  assert.equal(validateConnectionString('mongodb://db.internal/?appName=me@x'), undefined);
});

it('takes an empty or positive number of minutes up to a week', () => {
  assert.equal(validatePositiveMinutes(''), undefined);
  assert.equal(validatePositiveMinutes('90'), undefined);
  assert.ok(validatePositiveMinutes('0'));
  assert.ok(validatePositiveMinutes('abc'));
  assert.ok(validatePositiveMinutes('20000'));
});
