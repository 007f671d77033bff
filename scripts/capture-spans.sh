#!/usr/bin/env bash
# Golden spans from the real OpenLLMetry vector-store instrumentations (issue 15).
#
#   scripts/capture-spans.sh venv              build (or reuse) the capture venv, print its python
#   scripts/capture-spans.sh e2e-venv          build (or reuse) the end-to-end test's venv, print its python
#   scripts/capture-spans.sh [VENDOR...]       capture into test/fixtures/otel-capture/<vendor>.json
#   scripts/capture-spans.sh export URL VENDOR  run VENDOR's operations exporting OTLP/HTTP to URL
#
# The capture venv is $VIGIL_CAPTURE_VENV (default .cache/otel-capture/venv in the repository),
# built from scripts/otel-capture/requirements.txt; the end-to-end venv is $VIGIL_E2E_VENV (default
# .cache/otel-capture/e2e-venv), built from e2e-requirements.txt (one instrumented client and the
# OTLP exporter: quick to install, so the test command builds it on a fresh clone). Both are
# installed with constraints.txt (every package pinned) and rebuilt when their files change; a
# venv in place with the same files is reused without touching the network. The install is bounded
# by $VIGIL_VENV_INSTALL_TIMEOUT seconds (default 600). Only PyPI is reached, by pip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
here="$root/scripts/otel-capture"
capture_venv="${VIGIL_CAPTURE_VENV:-$root/.cache/otel-capture/venv}"
e2e_venv="${VIGIL_E2E_VENV:-$root/.cache/otel-capture/e2e-venv}"
vendors=(qdrant chromadb milvus lancedb weaviate pinecone marqo)

# build_venv DIR REQUIREMENTS: (re)builds DIR unless its stamp matches the pinned files.
build_venv() {
  local venv=$1 requirements=$2 stamp
  stamp="$(cat "$requirements" "$here/constraints.txt" | sha256sum | cut -c1-16)"
  if [[ -x "$venv/bin/python" && "$(cat "$venv/.vigil-stamp" 2>/dev/null)" == "$stamp" ]]; then return; fi
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! python3 -m venv "$venv" >&2; then
    echo "capture-spans: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2
    exit 2
  fi
  # The stamp is written last: an interrupted or timed-out install is redone on the next run.
  if ! timeout "${VIGIL_VENV_INSTALL_TIMEOUT:-600}" "$venv/bin/python" -m pip install --quiet \
    --disable-pip-version-check -r "$requirements" -c "$here/constraints.txt" >&2; then
    echo "capture-spans: pip install of $(basename "$requirements") failed or timed out" >&2
    exit 2
  fi
  echo "$stamp" >"$venv/.vigil-stamp"
}

case "${1:-}" in
  venv)
    build_venv "$capture_venv" "$here/requirements.txt"
    echo "$capture_venv/bin/python"
    ;;
  e2e-venv)
    build_venv "$e2e_venv" "$here/e2e-requirements.txt"
    echo "$e2e_venv/bin/python"
    ;;
  export)
    [[ $# -eq 3 ]] || { echo "usage: $0 export URL VENDOR" >&2; exit 2; }
    build_venv "$capture_venv" "$here/requirements.txt"
    "$capture_venv/bin/python" "$here/capture.py" "$3" --otlp "$2"
    ;;
  *)
    build_venv "$capture_venv" "$here/requirements.txt"
    out="$root/test/fixtures/otel-capture"
    mkdir -p "$out"
    for v in "${@:-${vendors[@]}}"; do
      "$capture_venv/bin/python" "$here/capture.py" "$v" --out "$out"
    done
    ;;
esac
