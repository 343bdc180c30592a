/**
 * Fuzzes the codec and the recorder with hostile bytes. Seeds: a valid message of every opcode, plus the bytes of
 * a real session (the mongodb driver talking to FerretDB through a TCP tap, both directions). Each iteration
 * mutates a seed and feeds it through the framer, parseMessage, readCommand, the peek helpers, describeCommand,
 * summarizeReply and a CommandRecorder. The only errors allowed out are WireProtocolError and CommandRefused (a
 * readable command the gateway will not forward); anything else (TypeError,
 * RangeError, a BSONError that slipped through) fails with the input that caused it.
 *
 * Default: 100,000 inputs. Longer run on demand:  FUZZ_ITERATIONS=2000000 npm test -- gateway/wire/fuzz
 * Reproduce a run: FUZZ_SEED=<the seed printed on failure> (the run is deterministic for a seed).
 */
import assert from 'node:assert/strict';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { Binary, Long, ObjectId } from 'bson';
import { MongoClient } from 'mongodb';
import { type FerretDBServer, startFerretDB } from '../../test/bed/ferretdb';
import { describeCommand } from '../recording/command-input';
import { CommandRecorder } from '../recording/recorder';
import { summarizeReply } from '../recording/reply-summary';
import { makeRandom, type Random } from '../test/seeded-random';
import { type CommandIdentity, CommandRefused, readCommand } from './command-identity';
import { COMPRESSOR_IDS, OP_MSG_FLAGS, OP_REPLY_FLAGS } from './constants';
import { errorReplyFor } from './error-reply';
import { WireProtocolError } from './errors';
import { MessageFramer } from './framer';
import { headerOf, parseMessage } from './message';
import { encodeOpCompressed } from './op-compressed';
import { encodeOpMsg } from './op-msg';
import { encodeOpQuery } from './op-query';
import { encodeOpReply } from './op-reply';
import { peekFlags, peekOpCode, peekRequestId, peekResponseTo } from './peek';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1234);
const MAX_MESSAGE_SIZE = 1_000_000;

function syntheticSeeds(): Buffer[] {
  const msgWithEverything = encodeOpMsg({
    requestId: 1,
    flags: OP_MSG_FLAGS.checksumPresent,
    body: { insert: 'items', ordered: true, lsid: { id: new Binary(Buffer.alloc(16), 4) }, $db: 'app' },
    sequences: [
      {
        identifier: 'documents',
        documents: [{ _id: new ObjectId(), a: 1, s: 'text', n: Long.fromNumber(2) }, { nested: { arr: [1, 2, { x: null }] } }],
      },
    ],
  });
  const find = encodeOpMsg({ requestId: 2, body: { find: 'items', filter: { a: { $in: [1, 2] } }, $db: 'app' } });
  const cursorReply = encodeOpMsg({
    requestId: 3,
    responseTo: 2,
    body: { cursor: { firstBatch: [{ a: 1 }, { a: 2 }], id: Long.fromNumber(77), ns: 'app.items' }, ok: 1 },
  });
  const writeErrorReply = encodeOpMsg({
    requestId: 4,
    responseTo: 1,
    body: { n: 1, writeErrors: [{ index: 1, code: 11000, errmsg: 'dup' }], ok: 1 },
  });
  const hello = encodeOpQuery({
    requestId: 5,
    flags: 4,
    fullCollectionName: 'admin.$cmd',
    numberToReturn: -1,
    query: { isMaster: 1, helloOk: true },
  });
  const legacyReply = encodeOpReply({ requestId: 6, responseTo: 5, documents: [{ ismaster: true, maxWireVersion: 17, ok: 1 }] });
  const failure = encodeOpReply({
    requestId: 7,
    responseTo: 5,
    responseFlags: OP_REPLY_FLAGS.queryFailure,
    documents: [{ $err: 'no', code: 2 }],
  });
  const compressed = encodeOpCompressed(find, COMPRESSOR_IDS.zlib);
  const compressedNoop = encodeOpCompressed(cursorReply, COMPRESSOR_IDS.noop);
  const error = errorReplyFor({ opCode: 2013, requestId: 2 }, { code: 13, codeName: 'Unauthorized', message: 'no' }, 8);
  const legacyInsert = Buffer.alloc(24);
  legacyInsert.writeInt32LE(24, 0);
  legacyInsert.writeInt32LE(2002, 12);
  return [
    msgWithEverything,
    find,
    cursorReply,
    writeErrorReply,
    hello,
    legacyReply,
    failure,
    compressed,
    compressedNoop,
    error,
    legacyInsert,
  ];
}

/** Runs a real driver session against FerretDB through a tap and returns every framed message, both directions. */
async function captureRealSession(server: FerretDBServer): Promise<Buffer[]> {
  const captured: Buffer[] = [];
  const sockets = new Set<Socket>();
  const tap = createServer((client) => {
    const upstream = tcpConnect(server.port, server.host);
    sockets.add(client).add(upstream);
    const up = new MessageFramer({ maxMessageSize: 48_000_000 });
    const down = new MessageFramer({ maxMessageSize: 48_000_000 });
    client.on('data', (chunk) => {
      for (const m of up.push(chunk)) captured.push(Buffer.from(m));
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      for (const m of down.push(chunk)) captured.push(Buffer.from(m));
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => tap.listen(0, '127.0.0.1', resolve));
  const port = (tap.address() as { port: number }).port;
  const client = new MongoClient(
    `mongodb://${encodeURIComponent(server.username)}:${encodeURIComponent(server.password)}@127.0.0.1:${port}/?authSource=admin&directConnection=true`,
  );
  try {
    const c = client.db('fuzz').collection<{ _id: number; tags?: string[]; when?: Date; blob?: Binary; x?: number }>('things');
    await c.insertMany(
      Array.from({ length: 7 }, (_, i) => ({ _id: i, tags: ['a', 'b'], when: new Date(0), blob: new Binary(Buffer.from([i])) })),
    );
    await c.find({ _id: { $gte: 0 } }, { batchSize: 3 }).toArray();
    await c.updateOne({ _id: 1 }, { $set: { x: 1 } });
    await c.aggregate([{ $match: { _id: { $lt: 5 } } }, { $count: 'n' }]).toArray();
    await c.countDocuments();
    await c.deleteMany({ _id: { $gt: 5 } });
    await c.insertOne({ _id: 1 }).catch(() => undefined);
    await client
      .db('fuzz')
      .command({ noSuchCommand: 1 })
      .catch(() => undefined);
  } finally {
    await client.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => tap.close(() => resolve()));
  }
  return captured;
}

function fixLength(buf: Buffer): Buffer {
  if (buf.length >= 4) buf.writeInt32LE(buf.length, 0);
  return buf;
}

const INTERESTING_INT32 = [0, 1, 4, 5, 15, 16, -1, -16, 0x7fffffff, -0x80000000, 48_000_001, 1_000_001, 0x10000];

/** One hostile variant of `seed`. */
function mutate(seed: Buffer, random: Random, seeds: Buffer[]): Buffer {
  const out = Buffer.from(seed);
  switch (random.int(11)) {
    case 0: // bit flips
      for (let i = random.int(8) + 1; i > 0 && out.length > 0; i--) out[random.int(out.length)] ^= 1 << random.int(8);
      return random.chance(0.7) ? fixLength(out) : out;
    case 1: // truncation, with or without a fixed-up length
      return random.chance(0.5) ? fixLength(Buffer.from(out.subarray(0, random.int(out.length)))) : out.subarray(0, random.int(out.length));
    case 2: {
      // wrong message length
      if (out.length >= 4) out.writeInt32LE(random.chance(0.5) ? random.pick(INTERESTING_INT32) : out.length + random.int(64) - 32, 0);
      return out;
    }
    case 3: {
      // interesting int32 written at a random place (BSON lengths, sequence sizes, numberReturned, declared sizes)
      if (out.length >= 20) out.writeInt32LE(random.pick(INTERESTING_INT32), 16 + random.int(out.length - 19));
      return out;
    }
    case 4: {
      // zero-length loops: a zero/short length where a document or sequence size is read
      for (let i = random.int(3) + 1; i > 0 && out.length >= 24; i--)
        out.writeInt32LE(random.pick([0, 4, 5]), 16 + random.int(out.length - 19));
      return fixLength(out);
    }
    case 5: {
      // random bytes over a region
      const at = random.int(out.length);
      random.bytes(Math.min(out.length - at, random.int(16) + 1)).copy(out, at);
      return fixLength(out);
    }
    case 6: {
      // wholly random body behind a valid header
      const raw = Buffer.concat([out.subarray(0, Math.min(16, out.length)), random.bytes(random.int(200))]);
      return fixLength(raw);
    }
    case 7: // splice two seeds
      return fixLength(Buffer.concat([out.subarray(0, random.int(out.length)), random.pick(seeds).subarray(random.int(16))]));
    case 8: {
      // decompression bomb or lying declared size
      const declared = random.pick([10, 100, 1000, MAX_MESSAGE_SIZE - 16, MAX_MESSAGE_SIZE + 100, 0x7fffffff, -1, 0]);
      const payload = random.chance(0.5) ? deflateSync(Buffer.alloc(random.int(2_000_000))) : deflateSync(out.subarray(16));
      const raw = Buffer.alloc(25 + payload.length);
      raw.writeInt32LE(raw.length, 0);
      raw.writeInt32LE(2012, 12);
      raw.writeInt32LE(random.pick([2013, 2004, 1, 2012, 9999]), 16);
      raw.writeInt32LE(declared, 20);
      raw[24] = random.pick([0, 1, 2, 3, 2, 2, 200]);
      payload.copy(raw, 25);
      return raw;
    }
    case 9: // insert random bytes in the middle
      return fixLength(
        Buffer.concat([out.subarray(0, random.int(out.length)), random.bytes(random.int(12) + 1), out.subarray(random.int(out.length))]),
      );
    default: {
      // change the opcode
      if (out.length >= 16) out.writeInt32LE(random.pick([1, 2001, 2002, 2004, 2005, 2006, 2007, 2012, 2013, 0, -1]), 12);
      return out;
    }
  }
}

describe('wire codec and recorder fuzz', () => {
  let server: FerretDBServer;
  let seeds: Buffer[] = [];
  before(async () => {
    server = await startFerretDB();
    const real = await captureRealSession(server);
    assert.ok(real.length >= 20, `captured only ${real.length} real messages`);
    seeds = [...syntheticSeeds(), ...real];
  });
  after(() => server?.stop());

  it('seeds parse cleanly before mutation', () => {
    for (const seed of seeds) {
      const parsed = parseMessage(seed, { maxMessageSize: 48_000_000 });
      assert.ok(parsed.kind);
    }
  });

  it(`survives ${ITERATIONS} mutated inputs with only WireProtocolError`, () => {
    const random = makeRandom(SEED);
    const events: unknown[] = [];
    const recorder = new CommandRecorder({
      maskPatterns: [/secret/g],
      maxEventBytes: 1024,
      connectionId: 'fuzz',
      onEvent: (e) => events.push(e),
      maxMessageSize: MAX_MESSAGE_SIZE,
      maxOutstanding: 64,
    });
    const counts = { parsed: 0, rejected: 0, framed: 0 };
    const expectOnly = (fn: () => void): boolean => {
      try {
        fn();
        return true;
      } catch (error) {
        if (error instanceof WireProtocolError || error instanceof CommandRefused) return false;
        throw error;
      }
    };

    for (let i = 0; i < ITERATIONS; i++) {
      const input = mutate(random.pick(seeds), random, seeds);
      try {
        // Framer: the input split at a random point, twice in a row (a stream of two messages).
        const framer = new MessageFramer({ maxMessageSize: MAX_MESSAGE_SIZE });
        const cut = random.int(input.length + 1);
        expectOnly(() => {
          for (const part of [input.subarray(0, cut), input.subarray(cut), input]) counts.framed += framer.push(part).length;
        });
        expectOnly(() => {
          peekOpCode(input);
          peekRequestId(input);
          peekResponseTo(input);
          peekFlags(input);
        });
        const requireDb = random.chance(0.5);
        let parsed: ReturnType<typeof parseMessage> | undefined;
        if (expectOnly(() => (parsed = parseMessage(input, { maxMessageSize: MAX_MESSAGE_SIZE, requireDb })))) counts.parsed++;
        else counts.rejected++;
        if (parsed) headerOf(parsed);
        let identity: CommandIdentity | undefined;
        expectOnly(() => (identity = readCommand(input, { maxNestingDepth: 50 })));
        if (identity) {
          const command = identity;
          expectOnly(() => describeCommand(input, command, { maskPatterns: [/secret/], maxEventBytes: 512 }));
          recorder.onRequest(input, command);
        }
        expectOnly(() => summarizeReply(input, MAX_MESSAGE_SIZE));
        recorder.onReply(input);
      } catch (error) {
        assert.fail(
          `input ${i} (FUZZ_SEED=${SEED}) threw ${(error as Error).name}: ${(error as Error).stack}\ninput: ${input.subarray(0, 512).toString('hex')}`,
        );
      }
    }
    recorder.flush();
    // The mutations must reach both sides of the parser, or the run proves little.
    assert.ok(counts.parsed > ITERATIONS / 20, `only ${counts.parsed} inputs parsed`);
    assert.ok(counts.rejected > ITERATIONS / 5, `only ${counts.rejected} inputs rejected`);
    assert.ok(events.length > 0);
  });
});
