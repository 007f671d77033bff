#!/usr/bin/env bash
# Local backing services for vigil's tests and development, on 127.0.0.1 only:
#   Kafka 4 (single-node KRaft, jars from Maven Central)  127.0.0.1:19092 (controller 19093),
#     and the same broker over TLS: 19094 (SSL, client certificate required) and 19095 (SASL_SSL:
#     PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), from a throwaway CA made with openssl under $SVC/kafka/tls
#   Redis (Debian redis-server, appendonly)               127.0.0.1:16379
#   PostgreSQL 15 + pgvector (built from Debian trixie's source package)
#                                                         127.0.0.1:15432 user/password/db vigil
# and, not services, Debian's chromium (+ fonts-liberation) for the dashboards render test.
#
# Usage: scripts/services.sh up|down|status|env|kafka-run-class <class> [args...]
#   up      install what is missing, start what is not running (idempotent),
#           then print the env lines on stdout
#   down    stop everything and delete the state directory
#   status  one line per service; exit status 0 only when all are up
#   env     print export lines (eval "$(scripts/services.sh env)")
#   kafka-run-class  run a Kafka class (e.g. org.apache.kafka.tools.TopicCommand)
#                    with the broker's classpath
#
# State (data, logs, pids): ${VIGIL_SERVICES_DIR:-<repo>/.services}, removed by `down`.
# Ports: VIGIL_KAFKA_PORT, VIGIL_KAFKA_CONTROLLER_PORT, VIGIL_KAFKA_TLS_PORT, VIGIL_KAFKA_SASL_PORT,
# VIGIL_REDIS_PORT, VIGIL_PG_PORT (defaults above), e.g. for a second instance beside the first
# (with its own VIGIL_SERVICES_DIR; give `env`, `status` and `down` the same variables).
# Downloads/builds kept across `down`: ${VIGIL_CACHE_DIR:-~/.cache/vigil} and ~/.m2.
# Progress goes to stderr; only the env lines go to stdout.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
SVC=${VIGIL_SERVICES_DIR:-$REPO/.services}
CACHE=${VIGIL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}

KAFKA_PORT=${VIGIL_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${VIGIL_KAFKA_CONTROLLER_PORT:-19093}
KAFKA_TLS_PORT=${VIGIL_KAFKA_TLS_PORT:-19094}
KAFKA_SASL_PORT=${VIGIL_KAFKA_SASL_PORT:-19095}
REDIS_PORT=${VIGIL_REDIS_PORT:-16379}
PG_PORT=${VIGIL_PG_PORT:-15432}
# The SASL user of the test broker (PLAIN and both SCRAM mechanisms). A loopback-only test
# instance, like PostgreSQL's vigil/vigil below: not a secret.
KAFKA_SASL_USER=vigil
KAFKA_SASL_PASSWORD=vigil-test-sasl
PG_BIN=/usr/lib/postgresql/15/bin
PG_SHARE=/usr/share/postgresql/15
KAFKA_POM=$SCRIPT_DIR/kafka/pom.xml
KAFKA_READY_TIMEOUT=${KAFKA_READY_TIMEOUT:-90}

MARKER=.vigil-services   # present in $SVC; `down` refuses to delete a dir without it

# ---------------------------------------------------------------- helpers
log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

T_START=$EPOCHREALTIME
elapsed() { # seconds since $1 (an $EPOCHREALTIME value), one decimal
  local now=$EPOCHREALTIME
  awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

pid_alive() { # running and not a zombie
  [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
  local st
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z && $st != X ]]
}

read_pid() { [[ -s $1 ]] && head -n1 "$1" | tr -dc '0-9' || true; }

tail_logs() { # tail_logs file...: show the end of each existing file on stderr
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    printf -- '----- tail of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}

env_lines() {
  local tls
  tls=$(kafka_tls_dir)
  printf 'export KAFKA_BROKERS=127.0.0.1:%s\n' "$KAFKA_PORT"
  printf 'export REDIS_URL=redis://127.0.0.1:%s\n' "$REDIS_PORT"
  printf 'export PG_URL=postgres://vigil:vigil@127.0.0.1:%s/vigil\n' "$PG_PORT"
  # For the Kafka TLS / SASL tests. Not vigil's own variable names (KAFKA_TLS_CA_FILE...): a vigil
  # started by a test would otherwise pick them up.
  printf 'export VIGIL_TEST_KAFKA_TLS_BROKERS=127.0.0.1:%s\n' "$KAFKA_TLS_PORT"
  printf 'export VIGIL_TEST_KAFKA_SASL_BROKERS=127.0.0.1:%s\n' "$KAFKA_SASL_PORT"
  printf 'export VIGIL_TEST_KAFKA_CA_FILE=%q\n' "$tls/ca.crt"
  printf 'export VIGIL_TEST_KAFKA_CLIENT_CERT_FILE=%q\n' "$tls/client.crt"
  printf 'export VIGIL_TEST_KAFKA_CLIENT_KEY_FILE=%q\n' "$tls/client.key"
  printf 'export VIGIL_TEST_KAFKA_SASL_USERNAME=%s\n' "$KAFKA_SASL_USER"
  printf 'export VIGIL_TEST_KAFKA_SASL_PASSWORD=%s\n' "$KAFKA_SASL_PASSWORD"
}

take_lock() { # serialise concurrent up/down runs
  mkdir -p "$CACHE"
  exec 9>"$CACHE/services.lock" # daemons are started with 9>&- so they do not inherit it
  if ! flock -n 9; then
    log "waiting for another services.sh (lock $CACHE/services.lock) ..."
    flock -w 300 9 || die "another services.sh still holds $CACHE/services.lock"
  fi
}

# ---------------------------------------------------------------- state per service
kafka_dir() { echo "$SVC/kafka"; }
kafka_tls_dir() { echo "$SVC/kafka/tls"; }
redis_dir() { echo "$SVC/redis"; }
pg_dir() { echo "$SVC/postgres"; }

kafka_pid() { read_pid "$(kafka_dir)/kafka.pid"; }
redis_pid() { read_pid "$(redis_dir)/redis.pid"; }
pg_pid() { read_pid "$(pg_dir)/data/postmaster.pid"; }

kafka_running() { local p; p=$(kafka_pid); pid_alive "$p" && port_open "$KAFKA_PORT"; }
kafka_secure_listening() { port_open "$KAFKA_TLS_PORT" && port_open "$KAFKA_SASL_PORT"; }
redis_running() { local p; p=$(redis_pid); pid_alive "$p" && port_open "$REDIS_PORT"; }
pg_running() { local p; p=$(pg_pid); pid_alive "$p" && port_open "$PG_PORT"; }

ensure_port_free() { # name port
  if port_open "$2"; then
    die "$1: port 127.0.0.1:$2 is in use by a process not managed from $SVC (check: ss -ltnp | grep :$2)"
  fi
}

# ---------------------------------------------------------------- installation
KAFKA_LIBS= # set by kafka_libs_dir

kafka_libs_dir() {
  local h
  h=$(sha256sum "$KAFKA_POM" | cut -c1-12)
  KAFKA_LIBS=$CACHE/kafka-libs-$h
}

kafka_tool_cmd() { # TOOL_CMD = a JVM with the Kafka classpath, tuned for short-lived tools
  TOOL_CMD=(java -Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto
    -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$SCRIPT_DIR/kafka/tools-log4j2.xml"
    -cp "$KAFKA_LIBS/*")
}
kafka_java() { kafka_tool_cmd; "${TOOL_CMD[@]}" "$@"; }

fetch_kafka_libs() { # mvn copy-dependencies into the cache (skipped when complete)
  kafka_libs_dir
  [[ -f $KAFKA_LIBS/.complete ]] && return 0
  local tmp="$KAFKA_LIBS.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  (cd "$SCRIPT_DIR/kafka" && mvn -q -B -Dstyle.color=never -f "$KAFKA_POM" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp") || return 1
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "mvn did not produce the Kafka jars in $tmp"
  touch "$tmp/.complete"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
}

debian_source_entry() { # prints "URI SIGNED-BY" of the machine's main Debian entry
  local f=/etc/apt/sources.list.d/debian.sources uri="" key=""
  if [[ -f $f ]]; then
    read -r uri key < <(awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && suites !~ /-security/ && uri != "" && !done) {
          print uri, (key == "" ? "-" : key); done = 1
        }
        types = ""; suites = ""; uri = ""; key = ""
      }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      tolower($1) == "types:"     { sub(/^[^:]*:[[:space:]]*/, ""); types = $0 }
      tolower($1) == "suites:"    { sub(/^[^:]*:[[:space:]]*/, ""); suites = $0 }
      tolower($1) == "uris:"      { uri = $2 }
      tolower($1) == "signed-by:" { key = $2 }
      END { flush() }' "$f") || true
  fi
  [[ -n $uri ]] || uri=http://deb.debian.org/debian
  [[ -n $key && $key != - ]] || key=/usr/share/keyrings/debian-archive-keyring.gpg
  echo "$uri $key"
}

fetch_pgvector_source() { # into $1, using a private deb-src (trixie) list; never binaries
  local work=$1 uri key
  read -r uri key < <(debian_source_entry)
  rm -rf "$work"
  mkdir -p "$work/sources" "$work/lists/partial" "$work/cache" "$work/src"
  cat >"$work/sources/trixie-src.sources" <<EOF
Types: deb-src
URIs: $uri
Suites: trixie
Components: main
Signed-By: $key
EOF
  local opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/sources"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" -qq update || return 1
  (cd "$work/src" && apt-get "${opts[@]}" -qq source --download-only pgvector) || return 1
  ls "$work"/src/pgvector_*.orig.tar.* >/dev/null 2>&1 || die "pgvector source tarball not downloaded"
}

build_pgvector() { # $1 = dir holding the fetched source (output goes to a log: no die here)
  local work=$1 tarball d
  tarball=$(ls "$work"/src/pgvector_*.orig.tar.* | head -n1) || return 1
  mkdir -p "$work/build" && tar -xf "$tarball" -C "$work/build" || return 1
  d=$(find "$work/build" -mindepth 1 -maxdepth 1 -type d | head -n1)
  [[ -n $d ]] || { echo "no directory in $tarball"; return 1; }
  # OPTFLAGS="" drops pgvector's default -march=native (portable build)
  make -C "$d" -j"$(nproc)" PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS="" || return 1
  make -C "$d" install PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS="" || return 1
  [[ -f $PG_SHARE/extension/vector.control ]] || { echo "vector.control missing after make install"; return 1; }
}

apt_install() { # one apt-get call for everything missing; daemons are not auto-started
  local pkgs=("$@") created_policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    # keep the packages' own redis/postgres from starting on the default ports
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  local rc=0
  {
    apt-get -qq update &&
      DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends "${pkgs[@]}"
  } || rc=$?
  [[ -n $created_policy ]] && rm -f /usr/sbin/policy-rc.d
  return $rc
}

browser_missing() { # Debian packages the tests need besides the services, one per line
  # playwright-core drives Debian's chromium (it downloads no browser of its own); a font for the text.
  [[ -x /usr/bin/chromium ]] || echo chromium
  [[ -f /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ]] || echo fonts-liberation
}

ensure_browser() { # for `up` when the services already run: they may predate the browser requirement
  local pkgs
  mapfile -t pkgs < <(browser_missing)
  ((${#pkgs[@]})) || return 0
  [[ $(id -u) == 0 ]] || die "missing ${pkgs[*]}: run as root (apt-get needs it)"
  mkdir -p "$SVC/logs"
  log "apt-get install ${pkgs[*]} ..."
  apt_install "${pkgs[@]}" >"$SVC/logs/apt.log" 2>&1 || {
    tail_logs "$SVC/logs/apt.log"
    die "apt-get install failed"
  }
}

install_missing() {
  local t0=$EPOCHREALTIME pkgs=() need_vector=""
  [[ -f $PG_SHARE/extension/vector.control ]] || need_vector=1
  command -v java >/dev/null || pkgs+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || pkgs+=(maven)
  command -v redis-server >/dev/null || pkgs+=(redis-server)
  command -v redis-cli >/dev/null || pkgs+=(redis-tools)
  command -v openssl >/dev/null || pkgs+=(openssl)
  # rsyslog: the CEF-over-syslog export test starts its own rsyslogd on a free loopback port.
  [[ -x /usr/sbin/rsyslogd ]] || command -v rsyslogd >/dev/null || pkgs+=(rsyslog)
  local browser
  mapfile -t browser < <(browser_missing)
  pkgs+=("${browser[@]}")
  [[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_BIN/postgres ]] || pkgs+=(postgresql-15)
  [[ -x $PG_BIN/psql ]] || pkgs+=(postgresql-client-15)
  if [[ -n $need_vector ]]; then
    [[ -f /usr/include/postgresql/15/server/postgres.h && -f /usr/lib/postgresql/15/lib/pgxs/src/makefiles/pgxs.mk ]] ||
      pkgs+=(postgresql-server-dev-15)
    command -v make >/dev/null || pkgs+=(make)
    command -v gcc >/dev/null || pkgs+=(gcc libc6-dev)
  fi
  if [[ $(id -u) != 0 ]] && ((${#pkgs[@]})) || [[ $(id -u) != 0 && -n $need_vector ]]; then
    die "missing ${pkgs[*]:-pgvector}: run as root (apt-get and make install need it)"
  fi

  mkdir -p "$SVC/logs"
  local mvn_pid="" src_pid="" vec_work="$CACHE/pgvector-work"

  # Background: Kafka jars (needs java+mvn) and the pgvector source (needs only apt).
  if command -v java >/dev/null && command -v mvn >/dev/null; then
    fetch_kafka_libs >"$SVC/logs/mvn.log" 2>&1 &
    mvn_pid=$!
  fi
  if [[ -n $need_vector ]]; then
    fetch_pgvector_source "$vec_work" >"$SVC/logs/pgvector-fetch.log" 2>&1 &
    src_pid=$!
  fi

  if ((${#pkgs[@]})); then
    log "apt-get install ${pkgs[*]} ..."
    local ta=$EPOCHREALTIME
    apt_install "${pkgs[@]}" >"$SVC/logs/apt.log" 2>&1 || {
      tail_logs "$SVC/logs/apt.log"
      die "apt-get install failed"
    }
    log "apt-get install done ($(elapsed "$ta")s)"
  fi

  if [[ -z $mvn_pid ]]; then
    fetch_kafka_libs >"$SVC/logs/mvn.log" 2>&1 &
    mvn_pid=$!
  fi
  if [[ -n $src_pid ]]; then
    wait "$src_pid" || { tail_logs "$SVC/logs/pgvector-fetch.log"; die "fetching the pgvector source failed"; }
    local tb=$EPOCHREALTIME
    build_pgvector "$vec_work" >"$SVC/logs/pgvector-build.log" 2>&1 || {
      tail_logs "$SVC/logs/pgvector-build.log"
      die "building pgvector failed"
    }
    rm -rf "$vec_work"
    log "pgvector built and installed ($(elapsed "$tb")s)"
  fi
  wait "$mvn_pid" || { tail_logs "$SVC/logs/mvn.log"; die "resolving the Kafka jars with mvn failed"; }
  kafka_libs_dir
  log "prerequisites ready ($(elapsed "$t0")s)"
}

# ---------------------------------------------------------------- kafka
kafka_tls_material() { # a CA, the broker's certificate (127.0.0.1, localhost) and a client's, once
  local t
  t=$(kafka_tls_dir)
  [[ -s $t/ca.crt && -s $t/server.pem && -s $t/client.crt && -s $t/client.key ]] && return 0
  rm -rf "$t"
  mkdir -p "$t"
  chmod 700 "$t"
  (
    cd "$t"
    # Valid for ten years from now: tests never meet the expiry of a state directory's CA.
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj /CN=vigil-services-test-ca
    issue() { # name subject extensions
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
      printf '%b' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" \
        -days 3650 -extfile "$1.ext"
    }
    issue server /CN=127.0.0.1 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
    issue client /CN=vigil-test-client 'extendedKeyUsage=clientAuth\n'
    # Kafka's PEM key store: the unencrypted PKCS#8 key and the certificate in one file.
    cat server.key server.crt >server.pem
    rm -f ./*.csr ./*.ext ca.srl
  ) >"$(kafka_dir)/logs/tls.log" 2>&1 || { tail_logs "$(kafka_dir)/logs/tls.log"; die "making the Kafka TLS material failed"; }
}

kafka_start() { # starts the JVM in the background; kafka_wait_ready checks it
  local d t cid
  d=$(kafka_dir)
  t=$(kafka_tls_dir)
  mkdir -p "$d/data" "$d/logs"
  kafka_tls_material
  cat >"$d/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,SSL://127.0.0.1:$KAFKA_TLS_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SSL://127.0.0.1:$KAFKA_TLS_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL
ssl.keystore.type=PEM
ssl.keystore.location=$t/server.pem
ssl.truststore.type=PEM
ssl.truststore.location=$t/ca.crt
# SSL: mutual TLS (a client certificate from the CA); SASL_SSL: server TLS and a password.
listener.name.ssl.ssl.client.auth=required
listener.name.sasl_ssl.ssl.client.auth=none
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER="$KAFKA_SASL_PASSWORD";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=$d/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.message.timestamp.after.max.ms=9223372036854775807
EOF
  # The last line: the suite's second pass runs its clients with the clock a year ahead
  # (scripts/test.sh, test/helpers/clock-ahead.cjs) while the broker keeps the real one, so record timestamps from
  # that far ahead must be accepted (Kafka 4 refuses those more than an hour ahead by default).
  if [[ -f $d/data/meta.properties && ! -f $d/scram-users.formatted ]]; then
    # Formatted by an older services.sh, without the SCRAM users: test data, start it over.
    log "kafka data has no SCRAM users (older services.sh): formatting it again"
    rm -rf "$d/data"
    mkdir -p "$d/data"
  fi
  if [[ ! -f $d/data/meta.properties ]]; then
    # A leading '-' would read as an option to the storage tool's argument parser.
    cid=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | sed 's/^-/A/')
    # KRaft keeps SCRAM credentials in its metadata log; the format step writes the first ones.
    kafka_java kafka.tools.StorageTool format -t "$cid" -c "$d/server.properties" \
      --add-scram "SCRAM-SHA-256=[name=$KAFKA_SASL_USER,password=$KAFKA_SASL_PASSWORD]" \
      --add-scram "SCRAM-SHA-512=[name=$KAFKA_SASL_USER,password=$KAFKA_SASL_PASSWORD]" \
      >"$d/logs/format.log" 2>&1 || { tail_logs "$d/logs/format.log"; die "kafka storage format failed"; }
    touch "$d/scram-users.formatted"
  fi
  : >"$d/logs/kafka.out"
  nohup setsid java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Xshare:auto \
    -Djava.awt.headless=true \
    -Dkafka.logs.dir="$d/logs" \
    -Dlog4j2.configurationFile="$SCRIPT_DIR/kafka/log4j2.xml" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$d/server.properties" \
    >>"$d/logs/kafka.out" 2>&1 </dev/null 9>&- &
  echo $! >"$d/kafka.pid"
}

kafka_wait_ready() {
  local d pid deadline
  d=$(kafka_dir)
  pid=$(kafka_pid)
  deadline=$((SECONDS + KAFKA_READY_TIMEOUT))
  local fail=""
  # 1) the JVM logs "Kafka Server started" once the broker is unfenced
  until port_open "$KAFKA_PORT" && kafka_secure_listening && grep -q 'Kafka Server started' "$d/logs/server.log" 2>/dev/null; do
    if ! pid_alive "$pid"; then fail="the Kafka process (pid $pid) exited"; break; fi
    if ((SECONDS >= deadline)); then fail="Kafka not ready after ${KAFKA_READY_TIMEOUT}s"; break; fi
    sleep 0.3
  done
  # 2) a real client round trip (admin API list topics)
  if [[ -z $fail ]]; then
    kafka_tool_cmd
    until timeout 30 "${TOOL_CMD[@]}" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "127.0.0.1:$KAFKA_PORT" --list >"$d/logs/ready-check.log" 2>&1; do
      if ! pid_alive "$pid"; then fail="the Kafka process (pid $pid) exited"; break; fi
      if ((SECONDS >= deadline)); then fail="Kafka not ready after ${KAFKA_READY_TIMEOUT}s"; break; fi
      sleep 1
    done
  fi
  if [[ -n $fail ]]; then
    tail_logs "$d/logs/kafka.out" "$d/logs/server.log" "$d/logs/ready-check.log"
    kafka_stop # do not leave a half-started broker behind; the next `up` retries
    kafka_stop_wait
    die "$fail (logs in $d/logs)"
  fi
}

kafka_stop() { # sends SIGTERM; kafka_stop_wait waits
  local pid
  pid=$(kafka_pid)
  if pid_alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
}

kafka_stop_wait() {
  local pid i
  pid=$(kafka_pid)
  for ((i = 0; i < 300; i++)); do pid_alive "$pid" || return 0; sleep 0.1; done
  log "kafka did not stop in 30s, killing pid $pid"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do pid_alive "$pid" || return 0; sleep 0.1; done
}

# ---------------------------------------------------------------- redis
redis_start() {
  local d i
  d=$(redis_dir)
  mkdir -p "$d/data"
  cat >"$d/redis.conf" <<EOF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $d/redis.pid
logfile $d/redis.log
dir $d/data
save ""
appendonly yes
appendfsync everysec
EOF
  redis-server "$d/redis.conf" >/dev/null 9>&- || { tail_logs "$d/redis.log"; die "redis-server failed to start"; }
  for ((i = 0; i < 100; i++)); do
    if [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; then return 0; fi
    sleep 0.1
  done
  tail_logs "$d/redis.log"
  die "redis did not answer PING on 127.0.0.1:$REDIS_PORT"
}

redis_stop() {
  local pid i
  pid=$(redis_pid)
  pid_alive "$pid" || return 0
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do pid_alive "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- postgres
as_postgres() { (cd / && runuser -u postgres -- "$@" 9>&-); }

pg_start() {
  local d
  d=$(pg_dir)
  mkdir -p "$d/data" "$d/run"
  chown -R postgres:postgres "$d"
  chmod 700 "$d/data"
  if [[ ! -f $d/data/PG_VERSION ]]; then
    as_postgres "$PG_BIN/initdb" -D "$d/data" -U postgres -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 >"$d/initdb.log" 2>&1 ||
      { tail_logs "$d/initdb.log"; die "initdb failed"; }
    cat >>"$d/data/postgresql.conf" <<EOF

# ---- scripts/services.sh (test instance) ----
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$d/run'
max_connections = 200
password_encryption = scram-sha-256
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    cat >"$d/data/pg_hba.conf" <<EOF
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  scram-sha-256
EOF
    chown postgres:postgres "$d/data/postgresql.conf" "$d/data/pg_hba.conf"
  fi
  rm -f "$d/data/postmaster.pid" # stale (the process is known not to be running)
  as_postgres "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/postgres.log" -w -t 60 start >/dev/null 2>&1 ||
    { tail_logs "$d/postgres.log"; die "postgres failed to start"; }
  as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$d/run" -p "$PG_PORT" -U postgres -d postgres <<'SQL' >"$d/setup.log" 2>&1 ||
SELECT 'CREATE ROLE vigil' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vigil')\gexec
ALTER ROLE vigil WITH LOGIN SUPERUSER PASSWORD 'vigil';
SELECT 'CREATE DATABASE vigil OWNER vigil' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'vigil')\gexec
\c vigil
CREATE EXTENSION IF NOT EXISTS vector;
SQL
    { tail_logs "$d/setup.log"; die "postgres role/database setup failed"; }
}

pg_stop() {
  local d pid
  d=$(pg_dir)
  pid=$(pg_pid)
  pid_alive "$pid" || return 0
  as_postgres "$PG_BIN/pg_ctl" -D "$d/data" -m fast -w -t 30 stop >/dev/null 2>&1 || {
    kill -QUIT "$pid" 2>/dev/null || true
  }
}

# ---------------------------------------------------------------- commands
cmd_up() {
  take_lock
  mkdir -p "$SVC"
  chmod 755 "$SVC"
  touch "$SVC/$MARKER"

  local need_k="" need_r="" need_p=""
  if kafka_running && ! kafka_secure_listening; then
    log "kafka runs without its TLS/SASL listeners (started by an older services.sh): restarting it"
    kafka_stop
    kafka_stop_wait
  fi
  kafka_running || need_k=1
  redis_running || need_r=1
  pg_running || need_p=1
  if [[ -z $need_k$need_r$need_p ]]; then
    ensure_browser
    log "all services already running ($(elapsed "$T_START")s)"
    env_lines
    return 0
  fi
  [[ -z $need_k ]] || { pid_alive "$(kafka_pid)" && die "kafka pid $(kafka_pid) alive but port $KAFKA_PORT closed; run down first"; ensure_port_free kafka "$KAFKA_PORT"; ensure_port_free kafka-controller "$KAFKA_CONTROLLER_PORT"; ensure_port_free kafka-tls "$KAFKA_TLS_PORT"; ensure_port_free kafka-sasl "$KAFKA_SASL_PORT"; }
  [[ -z $need_r ]] || { pid_alive "$(redis_pid)" && die "redis pid $(redis_pid) alive but port $REDIS_PORT closed; run down first"; ensure_port_free redis "$REDIS_PORT"; }
  [[ -z $need_p ]] || { pid_alive "$(pg_pid)" && die "postgres pid $(pg_pid) alive but port $PG_PORT closed; run down first"; ensure_port_free postgres "$PG_PORT"; }

  install_missing

  local t
  if [[ -n $need_k ]]; then
    t=$EPOCHREALTIME
    kafka_start
    log "kafka launched ($(elapsed "$t")s)"
  else
    log "kafka already running"
  fi
  if [[ -n $need_r ]]; then
    t=$EPOCHREALTIME
    redis_start
    log "redis up on 127.0.0.1:$REDIS_PORT ($(elapsed "$t")s)"
  else
    log "redis already running"
  fi
  if [[ -n $need_p ]]; then
    t=$EPOCHREALTIME
    pg_start
    log "postgres up on 127.0.0.1:$PG_PORT ($(elapsed "$t")s)"
  else
    log "postgres already running"
  fi
  if [[ -n $need_k ]]; then
    t=$EPOCHREALTIME
    kafka_wait_ready
    log "kafka ready on 127.0.0.1:$KAFKA_PORT, TLS $KAFKA_TLS_PORT, SASL_SSL $KAFKA_SASL_PORT (waited $(elapsed "$t")s)"
  fi
  log "up done ($(elapsed "$T_START")s)"
  env_lines
}

cmd_down() {
  take_lock
  if [[ ! -d $SVC ]]; then
    log "nothing to stop ($SVC does not exist)"
    return 0
  fi
  [[ -f $SVC/$MARKER ]] || die "$SVC has no $MARKER marker; not touching it"
  kafka_stop
  redis_stop
  pg_stop
  kafka_stop_wait
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_TLS_PORT" "$KAFKA_SASL_PORT" "$REDIS_PORT" "$PG_PORT"; do
    port_open "$p" && log "warning: 127.0.0.1:$p still accepts connections"
  done
  rm -rf "$SVC"
  log "all services stopped, $SVC removed ($(elapsed "$T_START")s)"
}

cmd_status() {
  local all=0 name port pid
  for name in kafka kafka-tls kafka-sasl redis postgres; do
    case $name in
      kafka) port=$KAFKA_PORT pid=$(kafka_pid) ;;
      kafka-tls) port=$KAFKA_TLS_PORT pid=$(kafka_pid) ;;
      kafka-sasl) port=$KAFKA_SASL_PORT pid=$(kafka_pid) ;;
      redis) port=$REDIS_PORT pid=$(redis_pid) ;;
      postgres) port=$PG_PORT pid=$(pg_pid) ;;
    esac
    if pid_alive "$pid" && port_open "$port"; then
      printf '%-10s up    127.0.0.1:%s  pid %s\n' "$name" "$port" "$pid"
    else
      printf '%-10s down  127.0.0.1:%s\n' "$name" "$port"
      all=1
    fi
  done
  return $all
}

cmd_kafka_run_class() {
  (($#)) || die "usage: $0 kafka-run-class <class> [args...]"
  kafka_libs_dir
  [[ -f $KAFKA_LIBS/.complete ]] || die "Kafka jars not fetched yet; run: $0 up"
  kafka_java "$@"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) env_lines ;;
  kafka-run-class) shift; cmd_kafka_run_class "$@" ;;
  *)
    echo "usage: $0 up|down|status|env|kafka-run-class <class> [args...]" >&2
    exit 2
    ;;
esac
