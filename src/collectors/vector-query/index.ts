// Recognising vector-store operations in what gateways record: SQL text (pgvector), HTTP requests
// to the vector stores' REST APIs (Qdrant, Weaviate, Milvus, Chroma, Pinecone), and client-library
// calls in scripts. Shared by the hoop.dev and Teleport collectors. Pure and best effort: a shape
// that is not recognised yields `undefined` (the caller records operation `other`); nothing here
// throws on odd input, and the texts parsed are never returned, only names and numbers.
//
// One parser a file: sql.parser.ts, http.parser.ts (the five REST dialects), script.parser.ts;
// what they share is in shared.ts.
export { type HttpRequestShape, parseVectorHttp } from './http.parser.js';
export { parseClientScript, parseHttpScript } from './script.parser.js';
export { systemHint, type VectorOp } from './shared.js';
export { parseSql } from './sql.parser.js';
