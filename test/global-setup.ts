// Runs once around the whole suite. Setup: a run directory under which every test's data
// directory and the captured logs go. Teardown: the privacy scan — the ClickHouse tables of
// every test store, the vigil topics on the test Kafka broker and the captured logs must hold
// none of the raw identifiers the tests used.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

const run = promisify(execFile);
const SCAN = path.resolve(import.meta.dirname, '../scripts/privacy-scan.mjs');
const PATTERNS = [
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
  /\b(?!127\.0\.0\.1\b)(?!0\.0\.0\.0\b)(?:\d{1,3}\.){3}\d{1,3}\b/g,
  /\bkey-person\d+\b/g,
];

export async function setup(): Promise<void> {
  const runDir = mkdtempSync(path.join(tmpdir(), 'vigil-run-'));
  mkdirSync(path.join(runDir, 'stores'));
  process.env.VIGIL_TEST_RUN_DIR = runDir;
  process.env.VIGIL_LOG_FILE = path.join(runDir, 'vigil.log');
  // Where each vigil topic ended before this run: the scan reads what this run wrote, not what
  // earlier runs (the year-ahead pass follows the first one on the same broker) left behind.
  const before = await topicOffsets();
  writeFileSync(path.join(runDir, 'kafka-start.json'), JSON.stringify(before ?? {}));
}

const isVigilTopic = (t: string) => t.endsWith('vigil.events.v1') || t.endsWith('vigil.findings.v1');

/** `topic:partition` → [low, high) of every vigil topic on the test broker; undefined without one. */
async function topicOffsets(): Promise<Record<string, [number, number]> | undefined> {
  const kafka = new Kafka({
    clientId: 'privacy-scan',
    brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:19092'],
    logLevel: logLevel.NOTHING,
    retry: { retries: 1 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  try {
    const topics = (await admin.listTopics()).filter(isVigilTopic);
    const out: Record<string, [number, number]> = {};
    for (const t of topics)
      for (const p of await admin.fetchTopicOffsets(t))
        out[`${t}:${p.partition}`] = [Number(p.low), Number(p.high)];
    return out;
  } finally {
    await admin.disconnect();
  }
}

function findRaw(text: string): string[] {
  return PATTERNS.flatMap((re) => [...text.matchAll(re)].map((m) => m[0]));
}

async function scanStores(runDir: string): Promise<string[]> {
  const stores = readdirSync(path.join(runDir, 'stores'))
    .map((d) => path.join(runDir, 'stores', d, 'clickhouse'))
    .filter((d) => existsSync(d));
  const problems: string[] = [];
  for (const dir of stores) {
    const { stdout } = await run(process.execPath, [SCAN, dir], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    });
    const { hits } = JSON.parse(stdout) as { hits: Array<{ table: string; match: string }> };
    for (const h of hits) problems.push(`ClickHouse ${dir} ${h.table}: ${h.match}`);
  }
  return problems;
}

async function scanKafka(runDir: string): Promise<string[]> {
  const now = await topicOffsets();
  if (!now) return []; // no broker: nothing went through Kafka in this run
  const startFile = path.join(runDir, 'kafka-start.json');
  const before = existsSync(startFile)
    ? (JSON.parse(readFileSync(startFile, 'utf8')) as Record<string, [number, number]>)
    : {};
  // Per partition, the first offset this run wrote (earlier runs' records are not this run's).
  const from = new Map<string, number>();
  for (const [key, [low, high]] of Object.entries(now)) {
    const start = Math.max(low, before[key]?.[1] ?? low);
    if (high > start) from.set(key, start);
  }
  const total = [...from].reduce((n, [key, start]) => n + now[key]![1] - start, 0);
  if (total === 0) return [];
  const topics = [...new Set([...from.keys()].map((k) => k.slice(0, k.lastIndexOf(':'))))];
  const kafka = new Kafka({
    clientId: 'privacy-scan',
    brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:19092'],
    logLevel: logLevel.NOTHING,
    retry: { retries: 1 },
  });
  const consumer = kafka.consumer({ groupId: `privacy-scan-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const problems: string[] = [];
  let seen = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 120_000);
    void consumer
      .run({
        eachBatch: async ({ batch }) => {
          const start = from.get(`${batch.topic}:${batch.partition}`);
          for (const m of batch.messages) {
            if (start === undefined || Number(m.offset) < start) continue;
            for (const raw of findRaw(m.value?.toString() ?? ''))
              problems.push(`Kafka ${batch.topic}: ${raw}`);
            seen++;
          }
          if (seen >= total) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .then(() => {
        for (const [key, start] of from) {
          const at = key.lastIndexOf(':');
          consumer.seek({
            topic: key.slice(0, at),
            partition: Number(key.slice(at + 1)),
            offset: String(start),
          });
        }
      });
  });
  await consumer.disconnect();
  if (seen < total) problems.push(`Kafka: read ${seen} of ${total} messages before the time limit`);
  return problems;
}

export async function teardown(): Promise<void> {
  const runDir = process.env.VIGIL_TEST_RUN_DIR;
  if (!runDir || process.env.VIGIL_SKIP_PRIVACY_SCAN === '1') return;
  const logFile = process.env.VIGIL_LOG_FILE!;
  const logs = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  const problems = [
    ...findRaw(logs).map((raw) => `log ${logFile}: ${raw}`),
    ...(await scanStores(runDir)),
    ...(await scanKafka(runDir)),
  ];
  const lines = logs.split('\n').filter(Boolean).length;
  process.stdout.write(
    `privacy scan: ${lines} log lines, stores under ${runDir}/stores, vigil Kafka topics — ${problems.length} raw identifier(s)\n`,
  );
  if (problems.length)
    throw new Error(
      `raw identifiers found after the suite:\n${[...new Set(problems)].slice(0, 40).join('\n')}`,
    );
}
