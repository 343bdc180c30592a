import { createHash } from 'node:crypto';
import { BSON_TYPES, type BsonElement, keyIs, walkDocument } from '../wire/bson-walk';
import type { CommandIdentity } from '../wire/command-identity';

/**
 * A short, stable id for the multi-document transaction a command belongs to, so an auditor sees which commands a
 * commitTransaction or abortTransaction covered. A transaction is identified by its logical session (`lsid.id`, a
 * UUID) and its `txnNumber`; every command in it, the commit and the abort included, carries both and
 * `autocommit: false`. (A retryable write carries lsid and txnNumber without autocommit: it is not a transaction.)
 *
 * The id is `txn_` and 10 base32 characters of SHA-256(lsid bytes, txnNumber): the same on every command of the
 * transaction, different across transactions, and it does not reveal the session id itself.
 */
export function transactionIdOf(raw: Buffer, identity: CommandIdentity): string | undefined {
  let lsid: BsonElement | undefined;
  let txnNumber: BsonElement | undefined;
  let autocommit = false;
  for (const field of identity.fields) {
    if (keyIs(raw, field, 'lsid') && field.type === BSON_TYPES.document) lsid = field;
    else if (keyIs(raw, field, 'txnNumber') && (field.type === BSON_TYPES.int64 || field.type === BSON_TYPES.int32)) txnNumber = field;
    else if (keyIs(raw, field, 'autocommit')) autocommit = true;
  }
  if (!lsid || !txnNumber || !autocommit) return undefined;
  let sessionBytes: Buffer | undefined;
  walkDocument(raw, lsid.valueStart, lsid.valueEnd, 'lsid', (element) => {
    if (!keyIs(raw, element, 'id') || element.type !== BSON_TYPES.binary) return true;
    sessionBytes = raw.subarray(element.valueStart + 5, element.valueEnd);
    return false;
  });
  if (!sessionBytes) return undefined;
  const number =
    txnNumber.type === BSON_TYPES.int64 ? raw.readBigInt64LE(txnNumber.valueStart) : BigInt(raw.readInt32LE(txnNumber.valueStart));
  const digest = createHash('sha256').update(sessionBytes).update(number.toString()).digest();
  return `txn_${base32(digest).slice(0, 10)}`;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}
