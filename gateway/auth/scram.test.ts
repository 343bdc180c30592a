import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  authMessage,
  clientFinalWithoutProof,
  clientFirstMessageBare,
  clientProof,
  escapeUsername,
  parseScramPayload,
  parseServerFirst,
  preparePassword,
  SCRAM_MECHANISMS,
  ScramClient,
  ScramError,
  saltedPassword,
  serverSignature,
  verifyServerFinal,
} from './scram';

// RFC 5802 section 5 (SCRAM-SHA-1, raw password "pencil").
const RFC5802 = {
  user: 'user',
  password: 'pencil',
  clientNonce: 'fyko+d2lbbFgONRv9qkxdawL',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
};

// RFC 7677 section 3 (SCRAM-SHA-256).
const RFC7677 = {
  user: 'user',
  password: 'pencil',
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

// The MongoDB authentication spec's SCRAM-SHA-1 example: the password goes through md5(user:mongo:pencil) first.
const MONGO_SHA1 = {
  user: 'user',
  password: 'pencil',
  clientNonce: 'fyko+d2lbbFgONRv9qkxdawL',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,s=rQ9ZY3MntBeuP3E1TDVC4w==,i=10000',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,p=MC2T8BvbmWRckDw8oWl5IVghwCY=',
  serverFinal: 'v=UMWeI25JD1yNYZRMpZ4VHvhZ9e0=',
};

function stepByStep(mechanism: typeof SCRAM_MECHANISMS.sha1 | typeof SCRAM_MECHANISMS.sha256, v: typeof RFC5802, prepared: string) {
  const bare = clientFirstMessageBare(v.user, v.clientNonce);
  const first = parseServerFirst(v.serverFirst, v.clientNonce);
  const salted = saltedPassword(mechanism, prepared, first.salt, first.iterations);
  const withoutProof = clientFinalWithoutProof(first.nonce);
  const message = authMessage(bare, v.serverFirst, withoutProof);
  return {
    clientFinal: `${withoutProof},p=${clientProof(mechanism, salted, message).toString('base64')}`,
    signature: serverSignature(mechanism, salted, message),
  };
}

describe('SCRAM helpers against the RFC test vectors', () => {
  it('SCRAM-SHA-1, RFC 5802: client proof and server signature', () => {
    const { clientFinal, signature } = stepByStep(SCRAM_MECHANISMS.sha1, RFC5802, RFC5802.password);
    assert.equal(clientFinal, RFC5802.clientFinal);
    assert.equal(`v=${signature.toString('base64')}`, RFC5802.serverFinal);
    verifyServerFinal(RFC5802.serverFinal, signature);
  });

  it('SCRAM-SHA-256, RFC 7677: the whole conversation through ScramClient', async () => {
    const client = new ScramClient(SCRAM_MECHANISMS.sha256, RFC7677.user, RFC7677.password, RFC7677.clientNonce);
    assert.equal(client.first(), `n,,n=user,r=${RFC7677.clientNonce}`);
    assert.equal(await client.final(RFC7677.serverFirst), RFC7677.clientFinal);
    client.verify(RFC7677.serverFinal);
  });

  it('SCRAM-SHA-1 as MongoDB does it: md5(user:mongo:password) as the password', async () => {
    assert.equal(preparePassword(SCRAM_MECHANISMS.sha1, 'user', 'pencil'), '1c33006ec1ffd90f9cadcbcc0e118200');
    const client = new ScramClient(SCRAM_MECHANISMS.sha1, MONGO_SHA1.user, MONGO_SHA1.password, MONGO_SHA1.clientNonce);
    assert.equal(await client.final(MONGO_SHA1.serverFirst), MONGO_SHA1.clientFinal);
    // A second conversation with the same salt takes the cached salted password and gets the same proof.
    const again = new ScramClient(SCRAM_MECHANISMS.sha1, MONGO_SHA1.user, MONGO_SHA1.password, MONGO_SHA1.clientNonce);
    assert.equal(await again.final(MONGO_SHA1.serverFirst), MONGO_SHA1.clientFinal);
    const wrong = new ScramClient(SCRAM_MECHANISMS.sha1, MONGO_SHA1.user, 'not-pencil', MONGO_SHA1.clientNonce);
    assert.notEqual(await wrong.final(MONGO_SHA1.serverFirst), MONGO_SHA1.clientFinal, 'the cache is keyed by the password too');
    client.verify(MONGO_SHA1.serverFinal);
  });

  it('SCRAM-SHA-256 prepares the password with SASLprep; SHA-1 does not', () => {
    // U+00AD (soft hyphen) is mapped to nothing, U+2168 (Roman numeral nine) to "IX" by NFKC.
    assert.equal(preparePassword(SCRAM_MECHANISMS.sha256, 'u', 'I\u00ADX'), 'IX');
    assert.equal(preparePassword(SCRAM_MECHANISMS.sha256, 'u', '\u2168'), 'IX');
    assert.notEqual(preparePassword(SCRAM_MECHANISMS.sha1, 'u', 'I\u00ADX'), preparePassword(SCRAM_MECHANISMS.sha1, 'u', 'IX'));
  });

  it('escapes "=" and "," in usernames', () => {
    assert.equal(escapeUsername('a=b,c'), 'a=3Db=2Cc');
    assert.equal(clientFirstMessageBare('a,b', 'N'), 'n=a=2Cb,r=N');
  });
});

describe('SCRAM refuses what a fake or broken server sends', () => {
  it('a wrong server signature fails verification', async () => {
    const client = new ScramClient(SCRAM_MECHANISMS.sha256, RFC7677.user, RFC7677.password, RFC7677.clientNonce);
    await client.final(RFC7677.serverFirst);
    assert.throws(() => client.verify('v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='), ScramError);
    assert.throws(() => client.verify('e=other-error'), /rejected the SCRAM proof: other-error/);
    assert.throws(() => client.verify('x=1'), /lacks its signature/);
  });

  it('a server nonce that does not extend the client nonce is refused', () => {
    assert.throws(() => parseServerFirst('r=someone-else,s=QSXCR+Q6sek8bf92,i=4096', 'fyko'), /does not extend/);
    assert.throws(() => parseServerFirst('r=fyko,s=QSXCR+Q6sek8bf92,i=4096', 'fyko'), /does not extend/);
  });

  it('too few iterations and missing fields are refused', () => {
    assert.throws(() => parseServerFirst('r=fykoX,s=QSXCR+Q6sek8bf92,i=1', 'fyko'), /at least 4096/);
    assert.throws(() => parseServerFirst('r=fykoX,i=4096', 'fyko'), /lacks r, s or i/);
    assert.throws(() => parseScramPayload('garbage'), /malformed/);
  });

  it('never puts the password in an error message', async () => {
    const client = new ScramClient(SCRAM_MECHANISMS.sha256, 'user', 'hunter2-secret', 'abc');
    for (const bad of ['r=zzz,s=AA==,i=4096', 'r=abcd,s=AA==,i=10', 'nonsense']) {
      await assert.rejects(
        () => client.final(bad),
        (e: Error) => !e.message.includes('hunter2-secret'),
      );
    }
  });
});
