#!/usr/bin/env bash
# Golden spans from the real OpenLLMetry vector-store instrumentations (issue 15).
#
#   scripts/capture-spans.sh venv              build (or reuse) the Python venv, print its python
#   scripts/capture-spans.sh [VENDOR...]       capture into test/fixtures/otel-capture/<vendor>.json
#   scripts/capture-spans.sh export URL VENDOR  run VENDOR's operations exporting OTLP/HTTP to URL
#
# The venv is $VIGIL_CAPTURE_VENV (default .cache/otel-capture/venv in the repository), built
# from scripts/otel-capture/requirements.txt with constraints.txt (every package pinned); it is
# rebuilt when either file changes. Only PyPI is reached, by pip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
here="$root/scripts/otel-capture"
venv="${VIGIL_CAPTURE_VENV:-$root/.cache/otel-capture/venv}"
vendors=(qdrant chromadb milvus lancedb weaviate)

build_venv() {
  local stamp
  stamp="$(cat "$here/requirements.txt" "$here/constraints.txt" | sha256sum | cut -c1-16)"
  if [[ -x "$venv/bin/python" && "$(cat "$venv/.vigil-stamp" 2>/dev/null)" == "$stamp" ]]; then return; fi
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! python3 -m venv "$venv" >&2; then
    echo "capture-spans: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2
    exit 2
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$here/requirements.txt" -c "$here/constraints.txt" >&2
  echo "$stamp" >"$venv/.vigil-stamp"
}

case "${1:-}" in
  venv)
    build_venv
    echo "$venv/bin/python"
    ;;
  export)
    [[ $# -eq 3 ]] || { echo "usage: $0 export URL VENDOR" >&2; exit 2; }
    build_venv
    "$venv/bin/python" "$here/capture.py" "$3" --otlp "$2"
    ;;
  *)
    build_venv
    out="$root/test/fixtures/otel-capture"
    mkdir -p "$out"
    for v in "${@:-${vendors[@]}}"; do
      "$venv/bin/python" "$here/capture.py" "$v" --out "$out"
    done
    ;;
esac
