// A private single-node KRaft broker for tests that kill Kafka: its own temp directory and free
// loopback ports, the JVM classpath cached by scripts/services.sh (kafka-run-class), the same
// server.properties layout as the shared broker. The shared broker (19092) is never touched.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from './child.js';
import type { FaultProxy } from './kafka-fault-proxy.js';

const SERVICES = path.resolve(import.meta.dirname, '../../scripts/services.sh');

export interface OwnKafka {
  readonly brokers: string;
  readonly dir: string;
  /** SIGKILL of the broker's process group (bash wrapper and JVM). */
  kill(): Promise<void>;
  /** Starts the broker again on the same ports and data (after `kill`). */
  restart(): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
}

function runClass(args: string[], log: string, detached: boolean): ChildProcess {
  const fd = openSync(log, 'a');
  try {
    return spawn('bash', [SERVICES, 'kafka-run-class', ...args], { detached, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

function exited(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
    proc.once('exit', (code) => resolve(code));
  });
}

async function ready(brokers: string, deadline: number, proc: ChildProcess): Promise<void> {
  const kafka = new Kafka({
    clientId: 'own-kafka-ready',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    retry: { retries: 0 },
  });
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the test broker exited with ${proc.exitCode}`);
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
      await admin.disconnect();
      return;
    } catch {
      await admin.disconnect().catch(() => {});
    }
    if (Date.now() > deadline) throw new Error(`the test broker on ${brokers} was not ready in time`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/**
 * Formats storage and starts the broker; bounded by `timeoutMs` (start-up and readiness). With a
 * `proxy`, the broker advertises the proxy's port, so clients reach it only through the proxy.
 */
export async function startOwnKafka(
  opts: { timeoutMs?: number; proxy?: FaultProxy } = {},
): Promise<OwnKafka> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-own-kafka-'));
  const port = await freePort();
  if (opts.proxy) opts.proxy.upstream = port;
  const advertised = opts.proxy?.port ?? port;
  const controller = await freePort();
  const props = path.join(dir, 'server.properties');
  const log = path.join(dir, 'kafka.out');
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${advertised}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${dir}/data`,
      'num.partitions=1',
      'default.replication.factor=1',
      'min.insync.replicas=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=3',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'num.network.threads=2',
      'num.io.threads=2',
      // The suite's year-ahead pass runs the clients' clock 400 days ahead of this broker's (as
      // scripts/services.sh does for the shared broker).
      'log.message.timestamp.after.max.ms=9223372036854775807',
      '',
    ].join('\n'),
  );
  // A leading '-' would read as an option to the storage tool's argument parser.
  const clusterId = randomBytes(16).toString('base64url').replace(/^-/, 'A');
  const format = runClass(['kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props], log, false);
  const timer = setTimeout(() => format.kill('SIGKILL'), timeoutMs);
  const code = await exited(format);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`formatting the test broker's storage failed (${code}); see ${log}`);

  let proc: ChildProcess | undefined;
  const brokers = `127.0.0.1:${advertised}`;
  const start = async () => {
    proc = runClass(['kafka.Kafka', props], log, true);
    try {
      await ready(brokers, Date.now() + timeoutMs, proc);
    } catch (err) {
      await kill();
      throw err;
    }
  };
  const kill = async () => {
    const p = proc;
    if (!p?.pid || p.exitCode !== null || p.signalCode !== null) return;
    const gone = exited(p);
    try {
      process.kill(-p.pid, 'SIGKILL'); // the whole group: the bash wrapper and its JVM
    } catch {
      // already gone
    }
    await gone;
  };
  await start();
  return {
    brokers,
    dir,
    kill,
    restart: start,
    async destroy() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
