// A loopback TCP proxy in front of a test broker that can lose a produce response: the request
// reaches the broker, which writes it and answers; the answer never reaches the client, and every
// connection is refused until `heal` — a client sees a send fail that the broker did write (a
// broker that dies between writing and answering). Requests and responses are Kafka frames: a
// 4-byte length, then (request) api key, api version, correlation id, or (response) correlation id.
import net from 'node:net';

export interface FaultProxy {
  readonly port: number;
  /** Where the broker listens; set once it is known (the broker advertises the proxy's port). */
  upstream: number;
  /** The next produce request goes through, its response is dropped, then the proxy is down. */
  loseNextProduceResponse(): void;
  /** Produce requests whose responses were dropped. */
  readonly lostResponses: number;
  /** Accepts connections again. */
  heal(): void;
  close(): Promise<void>;
}

const PRODUCE = 0;

/** Calls `onFrame` with each whole frame of a byte stream, in order. */
function frames(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = 4 + pending.readInt32BE(0);
      if (pending.length < size) return;
      onFrame(pending.subarray(0, size));
      pending = pending.subarray(size);
    }
  };
}

export async function startFaultProxy(): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  let down = false;
  let armed = false;
  let lost = 0;

  const goDown = () => {
    down = true;
    for (const s of sockets) s.destroy();
    sockets.clear();
  };

  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const broker = net.connect(proxy.upstream, '127.0.0.1');
    sockets.add(client);
    sockets.add(broker);
    let losing: number | undefined;
    client.on(
      'data',
      frames((frame) => {
        if (armed && frame.readInt16BE(4) === PRODUCE) {
          armed = false;
          losing = frame.readInt32BE(8);
        }
        broker.write(frame);
      }),
    );
    broker.on(
      'data',
      frames((frame) => {
        if (losing !== undefined && frame.readInt32BE(4) === losing) {
          lost++;
          goDown();
          return;
        }
        client.write(frame);
      }),
    );
    const end = () => {
      client.destroy();
      broker.destroy();
      sockets.delete(client);
      sockets.delete(broker);
    };
    client.on('close', end).on('error', end);
    broker.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: FaultProxy = {
    port: (server.address() as net.AddressInfo).port,
    upstream: 0,
    loseNextProduceResponse() {
      armed = true;
    },
    get lostResponses() {
      return lost;
    },
    heal() {
      down = false;
    },
    async close() {
      goDown();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
