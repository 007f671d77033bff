"""Local stand-ins for the data-plane APIs of SaaS vector stores (issue 15), so the real clients
and their OpenLLMetry instrumentations run against them and the spans they emit can be captured.

Pinecone has no local mode: `PineconeMock` answers the data-plane endpoints of Pinecone's REST API
(version 2025-04: POST /vectors/upsert, POST /query, GET /vectors/fetch, POST /vectors/delete) with
the response bodies that API specifies; a vector of the wrong dimension answers 400 with an
RpcStatus body (code 3, INVALID_ARGUMENT), as Pinecone does. It is reached as an HTTP proxy, so the client keeps a real index host name
(`<index>-<project>.svc.<environment>.pinecone.io`) and the spans say what they would say in
production.

Marqo runs as a server only (a Docker image this machine cannot pull): `MarqoMock` answers
POST /indexes/<name>/documents, /search and /documents/delete-batch, and 404 index_not_found for
any other index, with the bodies of Marqo's 2.x API reference.

Synthetic data only; bound to 127.0.0.1.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Handler(BaseHTTPRequestHandler):
    routes = None  # set per server: (method, path) -> fn(handler, path, query, body) -> (status, body)

    def log_message(self, *args):  # quiet: the capture prints its own summary
        pass

    def _serve(self, method):
        url = urlsplit(self.path)  # absolute-form when used as a proxy
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"null") if length else None
        status, answer = self.server.route(method, url.path, parse_qs(url.query), body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_DELETE(self):
        self._serve("DELETE")


class _Server:
    def __enter__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.route = self.route
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class PineconeMock(_Server):
    """One index of `dimension`; vectors per namespace (a namespace exists once written to)."""

    def __init__(self, dimension):
        self.dimension = dimension
        self.vectors = {}

    def _wrong_dimension(self, values):
        if len(values) == self.dimension:
            return None
        return 400, {"code": 3, "message": f"Vector dimension {len(values)} does not match the dimension of the index {self.dimension}", "details": []}

    def route(self, method, path, query, body):
        if method == "POST" and path == "/vectors/upsert":
            ns = body.get("namespace", "")
            for v in body["vectors"]:
                if (bad := self._wrong_dimension(v["values"])) is not None:
                    return bad
            store = self.vectors.setdefault(ns, {})
            for v in body["vectors"]:
                store[v["id"]] = v
            return 200, {"upsertedCount": len(body["vectors"])}
        if method == "POST" and path == "/query":
            ns = body.get("namespace", "")
            q = body["vector"]
            if (bad := self._wrong_dimension(q)) is not None:
                return bad
            scored = sorted(
                ({"id": v["id"], "score": sum(a * b for a, b in zip(q, v["values"])),
                  **({"values": v["values"]} if body.get("includeValues") else {"values": []}),
                  **({"metadata": v.get("metadata", {})} if body.get("includeMetadata") else {})}
                 for v in self.vectors.get(ns, {}).values()),
                key=lambda m: -m["score"],
            )
            return 200, {"results": [], "matches": scored[: body["topK"]], "namespace": ns,
                         "usage": {"readUnits": 5}}
        if method == "GET" and path == "/vectors/fetch":
            ns = query.get("namespace", [""])[0]
            store = self.vectors.get(ns, {})
            found = {i: store[i] for i in query.get("ids", []) if i in store}
            return 200, {"vectors": found, "namespace": ns, "usage": {"readUnits": 1}}
        if method == "POST" and path == "/vectors/delete":
            store = self.vectors.get(body.get("namespace", ""), {})
            for i in body.get("ids", []):
                store.pop(i, None)
            return 200, {}
        return 404, {"code": 5, "message": "Not Found", "details": []}


class MarqoMock(_Server):
    """Marqo 2.x: the indexes named exist; documents are matched by a word of their text."""

    def __init__(self, indexes=("articles",)):
        self.docs = {name: {} for name in indexes}

    def route(self, method, path, query, body):
        if method == "GET" and path in ("/", ""):
            return 200, {"message": "Welcome to Marqo", "version": "2.23.1"}
        parts = path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "indexes":
            return 404, {"message": "not found", "code": "not_found", "type": "invalid_request", "link": ""}
        name, rest = parts[1], "/".join(parts[2:])
        if name not in self.docs:
            return 404, {"message": f"index {name} not found", "code": "index_not_found",
                         "type": "invalid_request", "link": ""}
        docs = self.docs[name]
        if method == "POST" and rest == "documents":
            items = []
            for d in body["documents"]:
                docs[d["_id"]] = d
                items.append({"_id": d["_id"], "status": 200})
            return 200, {"errors": False, "processingTimeMs": 3.5, "index_name": name, "items": items}
        if method == "POST" and rest == "search":
            words = set(str(body.get("q", "")).lower().split())
            hits = [{"_id": i, "_score": 0.9, "title": d.get("title", "")}
                    for i, d in docs.items() if words & set(str(d.get("title", "")).lower().split())]
            limit = body.get("limit", 10)
            return 200, {"hits": hits[:limit], "query": body.get("q"), "limit": limit, "offset": 0,
                         "processingTimeMs": 2.0}
        if method == "POST" and rest == "documents/delete-batch":
            deleted = [i for i in body if docs.pop(i, None) is not None]
            return 200, {"index_name": name, "status": "succeeded", "type": "documentDeletion",
                         "details": {"receivedDocumentIds": len(body), "deletedDocuments": len(deleted)},
                         "items": [{"_id": i, "_shards": {"total": 1, "successful": 1, "failed": 0},
                                    "status": 200, "result": "deleted"} for i in deleted],
                         "duration": "PT0.01S", "startedAt": "2026-01-01T00:00:00Z",
                         "finishedAt": "2026-01-01T00:00:00Z"}
        if method == "GET" and rest == "settings":
            return 200, {"type": "unstructured", "model": "hf/e5-base-v2", "normalizeEmbeddings": True}
        return 404, {"message": "not found", "code": "not_found", "type": "invalid_request", "link": ""}
