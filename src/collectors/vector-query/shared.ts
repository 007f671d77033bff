// What the vector-query parsers share: the operation they return, the bounds that keep them cheap
// on any input, and the vector store a connection or app name points at.
import type { Operation } from '../../model/index.js';

export interface VectorOp {
  /** Canonical system when the shape tells it (`pgvector`, `qdrant`, …); undefined when it does not. */
  readonly system?: string;
  readonly operation: Operation;
  /** The source's own name for the operation (SQL verb, REST endpoint, client method). */
  readonly operation_raw: string;
  readonly collection: string;
  readonly namespace?: string;
  readonly top_k: number;
}

export const MAX_NAME = 256;
export const MAX_TOP_K = 4_294_967_295;
/** Texts longer than this are analysed on their first part only (regexes stay linear and cheap). */
export const MAX_TEXT = 64 * 1024;
/** Request lines or calls examined per script before giving up. */
export const MAX_CANDIDATES = 64;

/** A known vector store named in a connection, app or service name (`qdrant-prod`, `pgvector-rag`). */
export function systemHint(...names: Array<string | undefined>): string | undefined {
  for (const name of names) {
    const m = /(pgvector|qdrant|weaviate|milvus|zilliz|chroma|pinecone)/i.exec(name ?? '');
    if (m) return m[1]!.toLowerCase() === 'zilliz' ? 'milvus' : m[1]!.toLowerCase();
  }
  return undefined;
}
