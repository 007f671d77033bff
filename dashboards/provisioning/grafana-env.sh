#!/bin/sh
# Grafana's entrypoint wrapper for vigil's data source (provisioning/datasources/vigil.yaml).
#
# Grafana expands ${VAR} in provisioning files with Go's os.ExpandEnv (grafana/grafana
# pkg/services/provisioning/values/values.go, interpolateValue): no defaults, and an unset variable
# becomes "". The ClickHouse plugin then refuses the data source on every query, because it parses
# jsonData.port with strconv.ParseInt and jsonData.secure with strconv.ParseBool
# (grafana/clickhouse-datasource@1d04063a31fb30f9582cd0b3aeaacb7d350b0dcf pkg/plugin/settings.go,
# LoadSettings). So the defaults live here, in Grafana's environment before Grafana starts:
#   VIGIL_GRAFANA_CLICKHOUSE_PORT   8123 (ClickHouse HTTP); 8089 for vigil's admin port
#   VIGIL_GRAFANA_CLICKHOUSE_SECURE false; true for HTTPS
#   VIGIL_GRAFANA_CLICKHOUSE_PATH   "" (a ClickHouse server); /clickhouse for vigil's admin port
# Anything else than a port number 1-65535 or true/false refuses to start, naming the variable.
# Usage: grafana-env.sh <command...> (in the grafana/grafana image: grafana-env.sh /run.sh).
set -eu

refuse() {
  echo "vigil grafana: $1 $2" >&2
  exit 64
}

: "${VIGIL_GRAFANA_CLICKHOUSE_PORT:=8123}"
: "${VIGIL_GRAFANA_CLICKHOUSE_SECURE:=false}"
: "${VIGIL_GRAFANA_CLICKHOUSE_PATH:=}"

case "$VIGIL_GRAFANA_CLICKHOUSE_PORT" in
  *[!0-9]* | 0*) refuse VIGIL_GRAFANA_CLICKHOUSE_PORT "must be a port number (1-65535)" ;;
esac
# Length first, so the arithmetic below never sees a number too long for the shell.
if [ "${#VIGIL_GRAFANA_CLICKHOUSE_PORT}" -gt 5 ] || [ "$VIGIL_GRAFANA_CLICKHOUSE_PORT" -gt 65535 ]; then
  refuse VIGIL_GRAFANA_CLICKHOUSE_PORT "must be a port number (1-65535)"
fi
case "$VIGIL_GRAFANA_CLICKHOUSE_SECURE" in
  true | false) ;;
  *) refuse VIGIL_GRAFANA_CLICKHOUSE_SECURE "must be true or false" ;;
esac
case "$VIGIL_GRAFANA_CLICKHOUSE_PATH" in
  "" | /*) ;;
  *) refuse VIGIL_GRAFANA_CLICKHOUSE_PATH "must be empty or start with /" ;;
esac
if [ -z "${VIGIL_GRAFANA_CLICKHOUSE_HOST:-}" ]; then refuse VIGIL_GRAFANA_CLICKHOUSE_HOST "is not set"; fi
if [ -z "${VIGIL_GRAFANA_CLICKHOUSE_USER:-}" ]; then refuse VIGIL_GRAFANA_CLICKHOUSE_USER "is not set"; fi
if [ -z "${VIGIL_GRAFANA_CLICKHOUSE_PASSWORD:-}" ]; then refuse VIGIL_GRAFANA_CLICKHOUSE_PASSWORD "is not set"; fi

export VIGIL_GRAFANA_CLICKHOUSE_PORT VIGIL_GRAFANA_CLICKHOUSE_SECURE VIGIL_GRAFANA_CLICKHOUSE_PATH
exec "$@"
