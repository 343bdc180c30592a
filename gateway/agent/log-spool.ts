/**
 * The gateway's write-ahead log spool: every command's event is written here before the command is forwarded,
 * and every completed event after its reply, so that a command that ran is in the session log even if the
 * gateway is killed before it could upload it. Records are removed (their file deleted) once the control plane has
 * acknowledged every event in the file; on start the gateway uploads what older files still hold, a begun
 * command without its completion as outcome `unknown`.
 *
 * Durability: each record is one `write(2)` (it survives the process being killed); the file is fsynced every
 * FSYNC_INTERVAL_MS (a machine crash loses at most that much). Confidentiality: each record is encrypted with
 * AES-256-GCM under the key the control plane sends on every connect (kept in memory only), and files are 0600 in a
 * 0700 folder. Integrity: a record that does not decrypt (a torn last write) ends the reading of its file.
 *
 * File: records of [u32 length][12-byte nonce][ciphertext][16-byte tag], each holding one JSON SpoolRecord.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, fsync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandEvent, SessionLogEvent } from '../../protocol/session-log';

/** How often written records are fsynced: the most a machine crash (not a process kill) can lose. */
export const FSYNC_INTERVAL_MS = 200;
/** A file whose events are all acknowledged is replaced by a fresh one once it is this large. */
const ROTATE_BYTES = 4 * 1024 * 1024;
const FILE_PREFIX = 'spool-';

type SpoolRecord =
  /** A command about to be forwarded (its outcome not known yet). */
  | { t: 'begin'; s: string; o: string; q: number; e: Omit<CommandEvent, 'outcome' | 'durationMs'> }
  /** A finished event: a command with its outcome, or a connection event. */
  | { t: 'event'; s: string; o: string; q: number; e: SessionLogEvent }
  /** The control plane stored these events. */
  | { t: 'ack'; s: string; o: string; q: number[] };

/** An event recovered from an earlier run, to be uploaded again under its own origin and number. */
export interface SpooledEvent {
  sessionId: string;
  origin: string;
  seq: number;
  event: SessionLogEvent;
}

/** Thrown when the spool cannot be written: the command must not run (the gateway fails closed). */
export class SpoolWriteError extends Error {
  override name = 'SpoolWriteError';
}

interface SpoolFile {
  path: string;
  /** Events written to it and not yet acknowledged ("session origin seq"). */
  unacked: Set<string>;
}

const entryKey = (sessionId: string, origin: string, seq: number) => `${sessionId} ${origin} ${seq}`;

export class LogSpool {
  private current: SpoolFile;
  private fd: number;
  private size = 0;
  private fileNumber = 0;
  /** Older files (earlier runs, or rotated), each deleted once all its events are acknowledged. */
  private readonly older: SpoolFile[] = [];
  private dirty = false;
  private readonly fsyncTimer: NodeJS.Timeout;

  private constructor(
    private readonly dir: string,
    private readonly key: Buffer,
    private readonly origin: string,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { file, fd } = this.openFile();
    this.current = file;
    this.fd = fd;
    this.fsyncTimer = setInterval(() => this.sync(), FSYNC_INTERVAL_MS);
    this.fsyncTimer.unref();
  }

  /**
   * Opens the spool in `dir` for this run (`origin`), and returns with it what earlier runs left unacknowledged:
   * their completed events, and their begun commands as outcome `unknown`.
   */
  static open(dir: string, key: Buffer, origin: string): { spool: LogSpool; recovered: SpooledEvent[]; unreadable: string[] } {
    if (key.length !== 32) throw new Error('the spool key must be 32 bytes');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Only regular files: a link or device planted in the folder is neither followed nor deleted.
    const existing = readdirSync(dir).filter((name) => name.startsWith(FILE_PREFIX) && lstatSync(join(dir, name)).isFile());
    const spool = new LogSpool(dir, key, origin);
    const recovered: SpooledEvent[] = [];
    const unreadable: string[] = [];
    for (const name of existing.sort()) {
      const path = join(dir, name);
      const events = spool.readFile(path);
      if (events === undefined) {
        // Written under another key (the control plane's root key changed?): kept for an operator, never deleted.
        unreadable.push(path);
        continue;
      }
      const file: SpoolFile = { path, unacked: new Set(events.map((e) => entryKey(e.sessionId, e.origin, e.seq))) };
      if (file.unacked.size === 0) {
        unlinkSync(path);
        continue;
      }
      spool.older.push(file);
      recovered.push(...events);
    }
    return { spool, recovered, unreadable };
  }

  /** Records a command about to be forwarded. Throws SpoolWriteError when it cannot: then it must not be forwarded. */
  begin(sessionId: string, seq: number, event: Omit<CommandEvent, 'outcome' | 'durationMs'>): void {
    this.write({ t: 'begin', s: sessionId, o: this.origin, q: seq, e: event }, entryKey(sessionId, this.origin, seq));
  }

  /** Records a finished event (throws SpoolWriteError when it cannot). */
  event(sessionId: string, seq: number, event: SessionLogEvent): void {
    this.write({ t: 'event', s: sessionId, o: this.origin, q: seq, e: event }, entryKey(sessionId, this.origin, seq));
  }

  /** The control plane stored these events: forget them, and delete files left with nothing unacknowledged. */
  acknowledge(sessionId: string, origin: string, seqs: number[]): void {
    const keys = seqs.map((seq) => entryKey(sessionId, origin, seq));
    for (const file of [this.current, ...this.older]) for (const key of keys) file.unacked.delete(key);
    for (let i = this.older.length - 1; i >= 0; i--) {
      if (this.older[i].unacked.size > 0) continue;
      tryUnlink(this.older[i].path);
      this.older.splice(i, 1);
    }
    if (this.current.unacked.size === 0 && this.size >= ROTATE_BYTES) {
      this.rotate();
      return;
    }
    // Acknowledgements of this run's events are written too, so a restart does not upload them again.
    if (origin === this.origin) {
      try {
        this.append({ t: 'ack', s: sessionId, o: origin, q: seqs });
      } catch {
        // Losing an ack record only means the events are uploaded again after a restart, and stored once.
      }
    }
  }

  /** Events written and not yet acknowledged, in every file. */
  get pending(): number {
    return this.older.reduce((n, f) => n + f.unacked.size, this.current.unacked.size);
  }

  close(): void {
    clearInterval(this.fsyncTimer);
    this.sync();
    closeSync(this.fd);
    if (this.current.unacked.size === 0) tryUnlink(this.current.path);
  }

  private write(record: SpoolRecord, key: string): void {
    try {
      this.append(record);
    } catch (error) {
      throw new SpoolWriteError(
        `the gateway could not write its log spool (${(error as NodeJS.ErrnoException).code ?? (error as Error).message} in ${this.dir}), so it does not run commands it cannot record`,
      );
    }
    this.current.unacked.add(key);
  }

  private append(record: SpoolRecord): void {
    const plain = Buffer.from(JSON.stringify(record), 'utf8');
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
    const out = Buffer.allocUnsafe(4 + 12 + encrypted.length + 16);
    out.writeUInt32LE(12 + encrypted.length + 16, 0);
    nonce.copy(out, 4);
    encrypted.copy(out, 16);
    cipher.getAuthTag().copy(out, 16 + encrypted.length);
    // One write call per record: a kill leaves at most the last record torn, which reading then ignores.
    let written = 0;
    while (written < out.length) written += writeSync(this.fd, out, written);
    this.size += out.length;
    this.dirty = true;
  }

  /** The file's unacknowledged events; undefined when its first record does not decrypt under this key. */
  private readFile(path: string): SpooledEvent[] | undefined {
    const data = readFileSync(path);
    const begun = new Map<string, SpooledEvent>();
    const finished = new Map<string, SpooledEvent>();
    const acked = new Set<string>();
    let offset = 0;
    while (offset + 4 <= data.length) {
      const length = data.readUInt32LE(offset);
      if (length < 28 || offset + 4 + length > data.length) break;
      const record = this.decrypt(data.subarray(offset + 4, offset + 4 + length));
      if (!record && offset === 0) return undefined;
      if (!record) break;
      offset += 4 + length;
      if (record.t === 'ack') {
        for (const seq of record.q) acked.add(entryKey(record.s, record.o, seq));
        continue;
      }
      const key = entryKey(record.s, record.o, record.q);
      if (record.t === 'begin') {
        const event: CommandEvent = {
          ...record.e,
          outcome: 'unknown',
          durationMs: 0,
          errorMessage: 'the gateway stopped before the reply arrived; the command may have run',
        };
        begun.set(key, { sessionId: record.s, origin: record.o, seq: record.q, event });
      } else {
        finished.set(key, { sessionId: record.s, origin: record.o, seq: record.q, event: record.e });
      }
    }
    const events: SpooledEvent[] = [];
    for (const [key, entry] of begun) if (!finished.has(key) && !acked.has(key)) events.push(entry);
    for (const [key, entry] of finished) if (!acked.has(key)) events.push(entry);
    return events.sort((a, b) => a.seq - b.seq);
  }

  private decrypt(record: Buffer): SpoolRecord | undefined {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, record.subarray(0, 12));
      decipher.setAuthTag(record.subarray(record.length - 16));
      const plain = Buffer.concat([decipher.update(record.subarray(12, record.length - 16)), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as SpoolRecord;
    } catch {
      return undefined;
    }
  }

  private openFile(): { file: SpoolFile; fd: number } {
    const path = join(this.dir, `${FILE_PREFIX}${this.origin}-${String(this.fileNumber++).padStart(4, '0')}.log`);
    return { file: { path, unacked: new Set() }, fd: openSync(path, 'a', 0o600) };
  }

  private rotate(): void {
    this.sync();
    closeSync(this.fd);
    tryUnlink(this.current.path);
    const { file, fd } = this.openFile();
    this.current = file;
    this.fd = fd;
    this.size = 0;
  }

  private sync(): void {
    if (!this.dirty) return;
    this.dirty = false;
    fsync(this.fd, () => {});
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
