/**
 * Property: the gateway's command name is the key of the command document's first element in byte order, read
 * here by a reader that shares no code with the gateway, for generated documents that a decoded JavaScript object
 * would misread (integer-like keys, duplicate keys, the empty key, non-ASCII keys) with every BSON type as the
 * first value. Deterministic: FUZZ_SEED replays a run, FUZZ_ITERATIONS makes it longer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deserialize } from 'bson';
import { makeRandom, type Random } from '../test/seeded-random';
import { AUTHENTICATION_KEYS, CommandRefused, readCommand } from './command-identity';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x1d3e7177);

const KEYS = [
  '0',
  '1',
  '10',
  '007',
  '-1',
  '4294967295',
  '',
  'é',
  '键',
  'find',
  'hello',
  'isMaster',
  'ping',
  'insert',
  'a.b',
  '$db2',
  'x y',
];
const AUTH_KEYS = ['saslStart', 'SaslContinue', 'LOGOUT', 'authenticate', 'speculativeAuthenticate', 'saslSupportedMechs', 'getnonce'];

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};
const cstring = (s: string) => Buffer.from(`${s}\0`, 'utf8');
const bsonString = (s: string) => {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([int32(bytes.length + 1), bytes, Buffer.from([0])]);
};
const document = (elements: Buffer[]) => {
  const body = Buffer.concat(elements);
  return Buffer.concat([int32(body.length + 5), body, Buffer.from([0])]);
};

/** A value of every BSON type, written by hand: [type byte, value bytes]. */
const VALUES: Array<() => [number, Buffer]> = [
  () => [0x01, Buffer.from(new Float64Array([1.5]).buffer)],
  () => [0x02, bsonString('items')],
  () => [0x03, document([Buffer.concat([Buffer.from([0x10]), cstring('a'), int32(1)])])],
  () => [0x04, document([Buffer.concat([Buffer.from([0x10]), cstring('0'), int32(1)])])],
  () => [0x05, Buffer.concat([int32(3), Buffer.from([0x00, 1, 2, 3])])],
  () => [0x06, Buffer.alloc(0)],
  () => [0x07, Buffer.alloc(12, 7)],
  () => [0x08, Buffer.from([1])],
  () => [0x09, Buffer.alloc(8, 1)],
  () => [0x0a, Buffer.alloc(0)],
  () => [0x0b, Buffer.concat([cstring('^a'), cstring('i')])],
  () => [0x0c, Buffer.concat([bsonString('db.c'), Buffer.alloc(12, 9)])],
  () => [0x0d, bsonString('function(){}')],
  () => [0x0e, bsonString('sym')],
  () => {
    const code = bsonString('f()');
    const scope = document([]);
    return [0x0f, Buffer.concat([int32(4 + code.length + scope.length), code, scope])];
  },
  () => [0x10, int32(1)],
  () => [0x11, Buffer.alloc(8, 2)],
  () => [0x12, Buffer.alloc(8, 3)],
  () => [0x13, Buffer.alloc(16, 4)],
  () => [0xff, Buffer.alloc(0)],
  () => [0x7f, Buffer.alloc(0)],
];

function element(key: string, random: Random): Buffer {
  const [type, value] = random.pick(VALUES)();
  return Buffer.concat([Buffer.from([type]), cstring(key), value]);
}

function opMsg(body: Buffer): Buffer {
  const head = Buffer.alloc(21);
  head.writeInt32LE(21 + body.length, 0);
  head.writeInt32LE(1, 4);
  head.writeInt32LE(2013, 12);
  return Buffer.concat([head, body]);
}

/** The independent reader: the first element's key is the cstring after the 4-byte length and the type byte. */
function firstKeyOf(body: Buffer): string {
  const end = body.indexOf(0, 5);
  return body.toString('utf8', 5, end);
}

describe('command identity from the bytes (property)', () => {
  it(`names ${ITERATIONS} generated commands by their first element in byte order`, () => {
    const random = makeRandom(SEED);
    const counts = { accepted: 0, duplicates: 0, authentication: 0, jsOrderDiffers: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const keys: string[] = [];
      const n = 1 + random.int(5);
      for (let k = 0; k < n; k++) keys.push(random.int(8) === 0 && keys.length > 0 ? random.pick(keys) : random.pick(KEYS));
      if (random.int(10) === 0) keys.splice(random.int(keys.length + 1), 0, random.pick(AUTH_KEYS));
      const elements = keys.map((key) => element(key, random));
      elements.push(Buffer.concat([Buffer.from([0x02]), cstring('$db'), bsonString('app')]));
      const body = document(elements);
      const expected = firstKeyOf(body);
      const duplicated = new Set(keys).size !== keys.length;
      const authentication = keys.some((key) => AUTHENTICATION_KEYS.has(key.toLowerCase()));
      try {
        const decodedFirst = Object.keys(deserialize(body, { validation: { utf8: false } }))[0];
        if (decodedFirst !== expected) counts.jsOrderDiffers++;
      } catch {
        // bson cannot decode some of these (e.g. code with an odd scope); the gateway never needs it to.
      }
      try {
        const identity = readCommand(opMsg(body));
        assert.equal(identity.name, expected, `seed ${SEED} input ${i}: ${body.toString('hex')}`);
        assert.ok(!duplicated && !authentication, `seed ${SEED} input ${i} was accepted: ${JSON.stringify(keys)}`);
        counts.accepted++;
      } catch (error) {
        if (!(error instanceof CommandRefused)) throw error;
        assert.equal(error.identity.name, expected, `seed ${SEED} input ${i}: refused under another name`);
        assert.ok(duplicated || authentication, `seed ${SEED} input ${i} refused: ${error.message}`);
        if (authentication) counts.authentication++;
        else counts.duplicates++;
      }
    }
    // The generator must exercise each case, or the property proves little.
    for (const [what, count] of Object.entries(counts)) assert.ok(count > ITERATIONS / 50, `only ${count} inputs ${what}`);
  });
});
