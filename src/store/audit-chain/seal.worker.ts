// The seal worker thread's entry: seals the rows it is sent (./seal.ts, `sealRows`) and answers
// with the result or the error's message. Started by ./seal-worker.ts.
import { parentPort } from 'node:worker_threads';
import { errorMessage } from '../../model/errors.js';
import { sealRows } from './seal.js';
import type { SealRequest, SealResponse } from './seal-worker.js';

const port = parentPort;
if (!port) throw new Error('seal.worker: not started as a worker thread');
port.on('message', (request: SealRequest) => {
  let response: SealResponse;
  try {
    response = { id: request.id, sealed: sealRows(request.shape, request.rows) };
  } catch (err) {
    response = { id: request.id, error: errorMessage(err) };
  }
  port.postMessage(response);
});
