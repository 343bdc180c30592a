import { Binary, type Document } from 'bson';
import { ScramClient, ScramError, type ScramMechanism } from './scram';

/** Sends one command to the authentication database and returns its reply (ok: 0 must throw). */
export type RunCommand = (body: Document) => Promise<Document>;

function payloadText(reply: Document, step: string): string {
  const payload = reply.payload;
  if (payload instanceof Binary) return Buffer.from(payload.value()).toString('utf8');
  if (Buffer.isBuffer(payload) || payload instanceof Uint8Array) return Buffer.from(payload).toString('utf8');
  throw new ScramError(`the server's ${step} reply has no SASL payload`);
}

function binary(text: string): Binary {
  return new Binary(Buffer.from(text, 'utf8'));
}

/** Drivers stop after this many empty saslContinue rounds; a server that never says done is broken. */
const MAX_EXTRA_ROUNDS = 2;

/**
 * Runs a SCRAM conversation with saslStart/saslContinue, verifying the server signature before reporting
 * success. Command failures from the server propagate as thrown by `run`; SCRAM failures throw ScramError.
 */
export async function authenticateWithScram(run: RunCommand, mechanism: ScramMechanism, username: string, password: string): Promise<void> {
  const scram = new ScramClient(mechanism, username, password);
  const start = await run({
    saslStart: 1,
    mechanism,
    payload: binary(scram.first()),
    autoAuthorize: 1,
    options: { skipEmptyExchange: true },
  });
  const conversationId = start.conversationId;
  const serverFirst = payloadText(start, 'saslStart');
  const second = await run({ saslContinue: 1, conversationId, payload: binary(await scram.final(serverFirst)) });
  scram.verify(payloadText(second, 'saslContinue'));
  let done = second.done === true;
  for (let round = 0; !done && round < MAX_EXTRA_ROUNDS; round++) {
    const next = await run({ saslContinue: 1, conversationId, payload: new Binary(Buffer.alloc(0)) });
    done = next.done === true;
  }
  if (!done) throw new ScramError('the server did not finish the SCRAM conversation');
}
