// Several bus messages in one Kafka record: kafkajs pays its per-record costs (encoder buffers,
// CRC, partitioning) once per record, not once per event. Pure: grouping and the encoding only.
//
// A batch record carries the header BATCH_HEADER with its format version; a record without it was
// written one message per record (before batching, or by another producer) and is read as it is,
// so consumers read both while producers of either version share a topic.
//
// Format version 1, the record's value: frames back to back, each
//   uvarint key length · key (UTF-8) · uvarint value length · value
// No count and no padding: the record's own length ends it (Kafka's CRC guards the bytes).
import type { BusMessage } from './bus.js';

export const BATCH_HEADER = 'vigil.batch';
export const BATCH_VERSION = 1;

export interface RecordBatchLimits {
  /** Most messages in one record. */
  readonly maxEvents: number;
  /** Most bytes of one record's value (frames included); one larger message gets a record alone. */
  readonly maxBytes: number;
}

/** A record as kafkajs sends it: a key (the partitioner's input), the value and its headers. */
export interface BatchRecord {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: { [BATCH_HEADER]: string };
  /** How many messages it carries. */
  readonly count: number;
}

/** Thrown for a record this version cannot read: it is not skipped (that would lose its events). */
export class UnreadableRecordError extends Error {
  override readonly name = 'UnreadableRecordError';
}

const uvarintBytes = (n: number) =>
  n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;

/** A message's bytes in a version-1 record. */
export function frameBytes(m: BusMessage): number {
  const key = Buffer.byteLength(m.key);
  return uvarintBytes(key) + key + uvarintBytes(m.value.length) + m.value.length;
}

/**
 * The messages of one partition, in order, cut into records of at most `limits` each. Order is
 * kept within and across the records, so one key's messages stay in publish order.
 */
export function packRecords(messages: readonly BusMessage[], limits: RecordBatchLimits): BatchRecord[] {
  const records: BatchRecord[] = [];
  let start = 0;
  let bytes = 0;
  const close = (end: number) => {
    if (end > start) records.push(encodeRecord(messages.slice(start, end), bytes));
    start = end;
    bytes = 0;
  };
  for (let i = 0; i < messages.length; i++) {
    const size = frameBytes(messages[i]!);
    const count = i - start;
    if (count > 0 && (count >= limits.maxEvents || bytes + size > limits.maxBytes)) close(i);
    bytes += size;
  }
  close(messages.length);
  return records;
}

function encodeRecord(messages: readonly BusMessage[], bytes: number): BatchRecord {
  const value = Buffer.allocUnsafe(bytes);
  let at = 0;
  const writeUvarint = (n: number) => {
    while (n >= 0x80) {
      value[at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    value[at++] = n;
  };
  for (const m of messages) {
    writeUvarint(Buffer.byteLength(m.key));
    at += value.write(m.key, at, 'utf8');
    writeUvarint(m.value.length);
    at += m.value.copy(value, at);
  }
  return {
    // The partitioner's input: every message here hashed to the same partition as this key.
    key: messages[0]!.key,
    value,
    headers: { [BATCH_HEADER]: String(BATCH_VERSION) },
    count: messages.length,
  };
}

/**
 * The messages of a record read from Kafka: a batch record's frames, or the record itself when it
 * has no batch header (one message per record).
 * @throws UnreadableRecordError for an unknown version or frames that do not fill the value exactly
 */
/**
 * The messages of a record as a consumer reads it: `unpackRecord`, except that a batch record of
 * this version whose frames do not fill its value (corrupt, or forged) is handed over whole as one
 * message, which the handler cannot decode and dead-letters, instead of stopping the partition. A
 * record of an unknown version still throws: it is a newer vigil's, to be read after the upgrade.
 */
export function readRecord(
  key: Buffer | null,
  value: Buffer | null,
  headers: Record<string, unknown> | undefined,
): BusMessage[] {
  try {
    return unpackRecord(key, value, headers);
  } catch (err) {
    if (!(err instanceof MalformedBatchError)) throw err;
    return [{ key: key?.toString('utf8') ?? '', value: value ?? Buffer.alloc(0) }];
  }
}

/** A record of this batch version whose frames do not fill its value exactly. */
export class MalformedBatchError extends UnreadableRecordError {}

export function unpackRecord(
  key: Buffer | null,
  value: Buffer | null,
  headers: Record<string, unknown> | undefined,
): BusMessage[] {
  const version = headers?.[BATCH_HEADER];
  if (version === undefined) return [{ key: key?.toString('utf8') ?? '', value: value ?? Buffer.alloc(0) }];
  const text = Buffer.isBuffer(version) ? version.toString('utf8') : String(version);
  if (text !== String(BATCH_VERSION))
    throw new UnreadableRecordError(
      `batch record of format version ${text.slice(0, 8)}: this version reads 1`,
    );
  const bytes = value ?? Buffer.alloc(0);
  const messages: BusMessage[] = [];
  let at = 0;
  const readUvarint = () => {
    let n = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= bytes.length) break;
      const b = bytes[at++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
    }
    throw new MalformedBatchError('batch record: truncated length');
  };
  const take = (length: number) => {
    if (at + length > bytes.length) throw new MalformedBatchError('batch record: frame past its end');
    const slice = bytes.subarray(at, at + length);
    at += length;
    return slice;
  };
  while (at < bytes.length) {
    const k = take(readUvarint()).toString('utf8');
    messages.push({ key: k, value: take(readUvarint()) });
  }
  return messages;
}
