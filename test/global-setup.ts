// Runs once around the whole suite. Setup: a run directory under which every test's data
// directory and the captured logs go. Teardown: the privacy scan — the ClickHouse tables of
// every test store, the vigil topics on the test Kafka broker and the captured logs must hold
// none of the raw identifiers the tests used.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
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

async function scanKafka(): Promise<string[]> {
  const brokers = [process.env.KAFKA_BROKERS ?? '127.0.0.1:19092'];
  const kafka = new Kafka({
    clientId: 'privacy-scan',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 1 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch {
    return []; // no broker: nothing went through Kafka in this run
  }
  const topics = (await admin.listTopics()).filter(
    (t) => t.endsWith('vigil.events.v1') || t.endsWith('vigil.findings.v1'),
  );
  const offsets = await Promise.all(
    topics.map(async (t) => ({ t, parts: await admin.fetchTopicOffsets(t) })),
  );
  await admin.disconnect();
  const total = offsets.reduce(
    (n, o) => n + o.parts.reduce((m, p) => m + Number(p.high) - Number(p.low), 0),
    0,
  );
  if (total === 0) return [];
  const consumer = kafka.consumer({ groupId: `privacy-scan-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const problems: string[] = [];
  let seen = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 120_000);
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          for (const raw of findRaw(m.value?.toString() ?? '')) problems.push(`Kafka ${batch.topic}: ${raw}`);
        }
        seen += batch.messages.length;
        if (seen >= total) {
          clearTimeout(timer);
          resolve();
        }
      },
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
    ...(await scanKafka()),
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
