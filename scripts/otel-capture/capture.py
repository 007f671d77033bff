"""Golden spans from the real OpenLLMetry vector-store instrumentations (issue 15).

Runs each local client with its instrumentation and an in-memory span exporter, doing real
operations (create, upsert, search with a limit, scroll/get/peek, query, delete, drop, a failing
call), and writes the spans as OTLP/JSON (ExportTraceServiceRequest) fixtures, one file per
instrumentation, under the output folder. The mapping tests read those files.

With --otlp URL the same operations are exported over OTLP/HTTP (protobuf) to a running vigil
instead (the end-to-end test), and nothing is written. There they run inside a SERVER span, as in a
RAG app's request handler; --enduser puts the user on that span only (the database spans carry none,
as OpenLLMetry's never do), and --tenant names the tenant in the resource (vigil.tenant).

Only synthetic data: collection names, ids and texts below are made up; the resource carries only
service.name. No network but 127.0.0.1 (weaviate: see run_weaviate; Pinecone and Marqo, services
only, answer from the local mocks of mock_servers.py).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from importlib.metadata import version

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

SERVICE = "rag-capture"
DIM = 4


def vec(i):
    return [float(i), 1.0, 0.5, 0.25]


# ------------------------------------------------------------------------------------- runs


def run_qdrant():
    from opentelemetry.instrumentation.qdrant import QdrantInstrumentor
    from qdrant_client import QdrantClient, models

    QdrantInstrumentor().instrument()
    c = QdrantClient(":memory:")
    c.create_collection("docs", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE))
    c.upsert("docs", points=[models.PointStruct(id=i, vector=vec(i), payload={"n": i}) for i in range(1, 9)])
    c.query_points("docs", query=vec(1), limit=3)
    c.query_points("docs", query=vec(2))  # no limit: the client's default
    c.query_batch_points("docs", requests=[models.QueryRequest(query=vec(1), limit=2), models.QueryRequest(query=vec(3), limit=4)])
    c.scroll("docs", limit=5)
    c.set_payload("docs", payload={"tag": "x"}, points=[1, 2])
    c.delete("docs", points_selector=models.PointIdsList(points=[7, 8]))
    try:
        c.query_points("no_such_collection", query=vec(1), limit=2)
    except Exception:
        pass
    c.delete_collection("docs")
    return "opentelemetry-instrumentation-qdrant", ["qdrant-client"]


def run_chroma():
    import chromadb
    from opentelemetry.instrumentation.chromadb import ChromaInstrumentor

    ChromaInstrumentor().instrument()
    c = chromadb.EphemeralClient()
    # Embeddings given explicitly: the default embedding function would download a model.
    col = c.create_collection("notes", embedding_function=None)
    col.add(ids=[f"n{i}" for i in range(1, 9)], embeddings=[vec(i) for i in range(1, 9)], documents=[f"note {i}" for i in range(1, 9)])
    col.query(query_embeddings=[vec(1)], n_results=5)
    col.get(limit=3)
    col.peek(limit=2)
    col.upsert(ids=["n1"], embeddings=[vec(9)], documents=["note 1 again"])
    col.update(ids=["n2"], embeddings=[vec(8)])
    col.delete(ids=["n8"])
    try:
        col.query(query_embeddings=[[1.0, 2.0]], n_results=2)  # wrong dimension
    except Exception:
        pass
    c.delete_collection("notes")
    return "opentelemetry-instrumentation-chromadb", ["chromadb"]


def run_milvus(workdir):
    from opentelemetry.instrumentation.milvus import MilvusInstrumentor
    from pymilvus import MilvusClient

    MilvusInstrumentor().instrument()
    c = MilvusClient(os.path.join(workdir, "milvus.db"))
    # Keyword arguments as in pymilvus' documentation: the instrumentation reads collection_name
    # from the keywords only. One positional call shows what is lost then.
    c.create_collection(collection_name="papers", dimension=DIM)
    c.insert(collection_name="papers", data=[{"id": i, "vector": vec(i), "n": i} for i in range(1, 9)])
    c.upsert(collection_name="papers", data=[{"id": 1, "vector": vec(9), "n": 1}])
    c.search(collection_name="papers", data=[vec(1)], limit=6)
    c.search("papers", data=[vec(2)], limit=2)
    c.query(collection_name="papers", filter="n > 2", limit=4)
    c.get(collection_name="papers", ids=[1, 2])
    c.delete(collection_name="papers", ids=[8])
    try:
        c.search(collection_name="no_such_collection", data=[vec(1)], limit=2)
    except Exception:
        pass
    c.drop_collection("papers")
    c.close()
    return "opentelemetry-instrumentation-milvus", ["pymilvus", "milvus-lite"]


def run_lancedb(workdir):
    import lancedb
    from opentelemetry.instrumentation.lancedb import LanceInstrumentor

    LanceInstrumentor().instrument()
    db = lancedb.connect(os.path.join(workdir, "lance"))
    t = db.create_table("chunks", data=[{"id": i, "vector": vec(i)} for i in range(1, 9)])
    t.add([{"id": 9, "vector": vec(9)}])
    t.search(vec(1)).limit(3).to_list()
    t.delete("id = 9")
    try:
        t.delete("no_such_column = 1")
    except Exception:
        pass
    db.drop_table("chunks")
    return "opentelemetry-instrumentation-lancedb", ["lancedb"]


def run_weaviate():
    """
    Weaviate has no local mode here (embedded Weaviate downloads a server binary at run time, which
    this machine cannot). The v4 client is pointed at a closed port on 127.0.0.1: calls that only
    build a handle (collections.get) succeed, every call that reaches the server fails with the
    client's connection error. The spans are the instrumentation's own, with its real attribute
    keys; no successful search is captured.
    """
    import weaviate
    from weaviate.connect import ConnectionParams
    from opentelemetry.instrumentation.weaviate import WeaviateInstrumentor

    WeaviateInstrumentor().instrument()
    c = weaviate.WeaviateClient(
        connection_params=ConnectionParams.from_params(
            http_host="127.0.0.1", http_port=9, http_secure=False,
            grpc_host="127.0.0.1", grpc_port=7, grpc_secure=False,
        ),
        skip_init_checks=True,
    )
    calls = [
        lambda: c.collections.create("Articles"),
        lambda: c.collections.get("Articles"),
        lambda: c.collections.get("Articles").data.insert({"title": "t"}),
        lambda: c.collections.get("Articles").query.fetch_objects(limit=5),
        lambda: c.collections.get("Articles").query.near_vector(near_vector=vec(1), limit=4),
        lambda: c.collections.get("Articles").data.delete_by_id("00000000-0000-0000-0000-000000000001"),
        lambda: c.collections.delete("Articles"),
    ]
    for call in calls:
        try:
            call()
        except Exception:
            pass
    return "opentelemetry-instrumentation-weaviate", ["weaviate-client"]


def run_pinecone():
    """
    Pinecone is a service only: the client talks to scripts/otel-capture/mock_servers.py's
    PineconeMock, through it as an HTTP proxy so the index keeps a real host name. The
    instrumentation traces query, upsert and delete (not fetch: called once to show it).
    """
    from opentelemetry.instrumentation.pinecone import PineconeInstrumentor
    from pinecone import Pinecone

    from mock_servers import PineconeMock

    PineconeInstrumentor().instrument()
    with PineconeMock(dimension=DIM) as mock:
        pc = Pinecone(api_key="synthetic-not-a-key", proxy_url=mock.url)
        index = pc.Index(host="http://docs-a1b2c3d.svc.us-east1-aws.pinecone.io")
        index.upsert(vectors=[(f"d{i}", vec(i), {"n": i}) for i in range(1, 9)], namespace="team-a")
        index.query(vector=vec(1), top_k=3, namespace="team-a", include_metadata=True)
        index.query(vector=vec(2), top_k=5, namespace="team-a", include_values=True)
        index.query(vector=vec(3), top_k=2)  # the default namespace: empty, no matches
        index.fetch(ids=["d1", "d2"], namespace="team-a")
        index.delete(ids=["d8"], namespace="team-a")
        try:
            index.query(vector=[1.0, 2.0], top_k=2, namespace="team-a")  # wrong dimension: 400
        except Exception:
            pass
    return "opentelemetry-instrumentation-pinecone", ["pinecone"]


def run_marqo():
    """
    Marqo is a server only: the client talks to mock_servers.py's MarqoMock. The instrumentation
    traces add_documents, search and delete_documents.
    """
    import marqo
    from opentelemetry.instrumentation.marqo import MarqoInstrumentor

    from mock_servers import MarqoMock

    MarqoInstrumentor().instrument()
    with MarqoMock(indexes=("articles",)) as mock:
        mq = marqo.Client(url=mock.url)
        index = mq.index("articles")
        docs = [{"_id": f"a{i}", "title": f"solar note {i}"} for i in range(1, 7)]
        index.add_documents(documents=docs, tensor_fields=["title"])
        index.search(q="solar", limit=4)
        index.search(q="wind")  # no hits
        index.delete_documents(ids=["a6"])
        try:
            mq.index("no_such_index").search(q="solar", limit=2)
        except Exception:
            pass
    return "opentelemetry-instrumentation-marqo", ["marqo"]


RUNS = {
    "qdrant": lambda w: run_qdrant(),
    "chromadb": lambda w: run_chroma(),
    "milvus": run_milvus,
    "lancedb": run_lancedb,
    "weaviate": lambda w: run_weaviate(),
    "pinecone": lambda w: run_pinecone(),
    "marqo": lambda w: run_marqo(),
}

# ----------------------------------------------------------------------------------- OTLP/JSON


def any_value(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, (list, tuple)):
        return {"arrayValue": {"values": [any_value(x) for x in v]}}
    return {"stringValue": str(v)}


def attributes(attrs):
    return [{"key": k, "value": any_value(v)} for k, v in (attrs or {}).items()]


KIND = {0: "SPAN_KIND_INTERNAL", 1: "SPAN_KIND_SERVER", 2: "SPAN_KIND_CLIENT", 3: "SPAN_KIND_PRODUCER", 4: "SPAN_KIND_CONSUMER"}
STATUS = {0: "STATUS_CODE_UNSET", 1: "STATUS_CODE_OK", 2: "STATUS_CODE_ERROR"}


def otlp_json(spans, scope_versions):
    by_scope = {}
    for s in spans:
        by_scope.setdefault((s.instrumentation_scope.name, s.instrumentation_scope.version), []).append(s)
    scope_spans = []
    for (name, ver), group in by_scope.items():
        out = []
        for s in group:
            ctx = s.get_span_context()
            span = {
                "traceId": format(ctx.trace_id, "032x"),
                "spanId": format(ctx.span_id, "016x"),
                "name": s.name,
                "kind": KIND[s.kind.value],
                "startTimeUnixNano": str(s.start_time),
                "endTimeUnixNano": str(s.end_time),
                "attributes": attributes(s.attributes),
                # The status message is the exception's text: not kept (it may quote data).
                "status": {"code": STATUS[s.status.status_code.value]},
            }
            if s.parent is not None:
                span["parentSpanId"] = format(s.parent.span_id, "016x")
            events = [
                # exception.message / exception.stacktrace hold text and local paths: only the type is kept.
                {"name": e.name, "timeUnixNano": str(e.timestamp),
                 "attributes": attributes({k: v for k, v in (e.attributes or {}).items()
                                           if k not in ("exception.message", "exception.stacktrace")})}
                for e in s.events
            ]
            if events:
                span["events"] = events
            out.append(span)
        scope_spans.append({"scope": {"name": name, "version": ver or ""}, "spans": out})
    return {
        "resourceSpans": [{
            "resource": {"attributes": attributes({"service.name": SERVICE})},
            "scopeSpans": scope_spans,
        }],
        "x-vigil-capture": scope_versions,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("vendor", choices=sorted(RUNS))
    p.add_argument("--out", help="folder for <vendor>.json")
    p.add_argument("--otlp", help="OTLP/HTTP traces URL of a running vigil (exports instead of writing)")
    p.add_argument("--token", default=os.environ.get("VIGIL_CAPTURE_TOKEN", ""))
    p.add_argument("--tenant", help="with --otlp: the resource's vigil.tenant")
    p.add_argument("--enduser", help="with --otlp: enduser.id of the request's server span")
    args = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="otel-capture-")
    resource = {"service.name": SERVICE}
    if args.otlp and args.tenant:
        resource["vigil.tenant"] = args.tenant
    provider = TracerProvider(resource=Resource.create(resource))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    if args.otlp:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        headers = {"authorization": f"Bearer {args.token}"} if args.token else {}
        # A batch processor, as applications configure it. Its timer is pushed past the run so the
        # whole request (database spans and the server span that ends last) goes out in the one
        # export of force_flush below: the same-request case of vigil's trace-identity path.
        exporter = OTLPSpanExporter(endpoint=args.otlp, headers=headers)
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=600_000))
    trace.set_tracer_provider(provider)
    try:
        if args.otlp:
            # The user is on the request's span only: vigil must take it from the ancestor.
            server_attrs = {"http.request.method": "POST", "http.route": "/ask"}
            if args.enduser:
                server_attrs["enduser.id"] = args.enduser
            tracer = trace.get_tracer("rag-app")
            with tracer.start_as_current_span("POST /ask", kind=trace.SpanKind.SERVER, attributes=server_attrs):
                instrumentation, clients = RUNS[args.vendor](workdir)
        else:
            instrumentation, clients = RUNS[args.vendor](workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    provider.force_flush()
    spans = memory.get_finished_spans()
    versions = {pkg: version(pkg) for pkg in [instrumentation, *clients, "opentelemetry-sdk"]}
    if args.otlp:
        provider.shutdown()
        print(json.dumps({"exported": len(spans)}))
        return
    doc = otlp_json(spans, versions)
    path = os.path.join(args.out, f"{args.vendor}.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"{path}: {len(spans)} spans", file=sys.stderr)


if __name__ == "__main__":
    main()
