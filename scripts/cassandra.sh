#!/usr/bin/env bash
# Single-node Apache Cassandra 5.0 for tests and CI.
#
# It stands in for Scylla (same CQL protocol): no Scylla package and no Docker
# engine can be had here, and the network reaches only package registries, so
# Cassandra is assembled from Maven Central (cassandra-all + its runtime deps)
# and run straight from the JVM, without Cassandra's tarball launch scripts.
#
# Usage: scripts/cassandra.sh install|start|stop|restart|status|wipe|log
#   install  fetch cassandra-all and its runtime jars into the cache (idempotent)
#   start    install if needed, start in the background, wait until CQL answers
#   stop     SIGTERM, wait, SIGKILL after a deadline (data dir is kept)
#   restart  stop + start
#   status   exit 0 if the CQL port answers a CQL OPTIONS request
#   wipe     stop and delete all data (jars are kept)
#   log      print the tail of the server log
#
# Environment:
#   CASSANDRA_HOME     cache dir (jars, config, data, log); default ~/.cache/inventory-cassandra
#   CASSANDRA_VERSION  org.apache.cassandra:cassandra-all version; default 5.0.9
#   CASSANDRA_HEAP     max heap (-Xmx); default 1G
#   CASSANDRA_PORT     CQL native transport port; default 9042
#   CASSANDRA_STORAGE_PORT  inter-node port (bound on 127.0.0.1 only); default 7000
#   CASSANDRA_START_TIMEOUT / CASSANDRA_STOP_TIMEOUT  seconds; default 180 / 60
#   CASSANDRA_COMMITLOG_SYNC  batch (default: acked writes survive kill -9),
#                      group or periodic (faster, loses recent writes on kill -9)
set -euo pipefail

CASSANDRA_HOME="${CASSANDRA_HOME:-${HOME:-/root}/.cache/inventory-cassandra}"
CASSANDRA_VERSION="${CASSANDRA_VERSION:-5.0.9}"
CASSANDRA_HEAP="${CASSANDRA_HEAP:-1G}"
CASSANDRA_PORT="${CASSANDRA_PORT:-9042}"
CASSANDRA_STORAGE_PORT="${CASSANDRA_STORAGE_PORT:-7000}"
START_TIMEOUT="${CASSANDRA_START_TIMEOUT:-180}"
STOP_TIMEOUT="${CASSANDRA_STOP_TIMEOUT:-60}"
COMMITLOG_SYNC="${CASSANDRA_COMMITLOG_SYNC:-batch}"

DIST_DIR="$CASSANDRA_HOME/cassandra-$CASSANDRA_VERSION" # lib/ + .installed marker
M2_DIR="$CASSANDRA_HOME/m2"                              # private Maven repo: rm -rf of the cache is a full reset
CONF_DIR="$CASSANDRA_HOME/conf"
DATA_DIR="$CASSANDRA_HOME/data"
LOG_FILE="$CASSANDRA_HOME/cassandra.log"
PID_FILE="$CASSANDRA_HOME/cassandra.pid"
LOCK_FILE="$CASSANDRA_HOME/.lock"
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

log() { echo "cassandra.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# Serialise install/start/stop between concurrent callers (parallel test
# packages may all call `start`).
with_lock() {
  mkdir -p "$CASSANDRA_HOME"
  exec 9>"$LOCK_FILE"
  flock 9
}

# ---------------------------------------------------------------- install ---

install() {
  [[ -f "$DIST_DIR/.installed" ]] && return 0
  command -v java >/dev/null || die "java (17) is not on PATH"
  command -v mvn >/dev/null || die "mvn is not on PATH"
  log "installing cassandra-all $CASSANDRA_VERSION from Maven Central into $DIST_DIR"
  local build="$CASSANDRA_HOME/build-$CASSANDRA_VERSION"
  rm -rf "$build" && mkdir -p "$build"
  write_pom "$build/pom.xml"
  # copy-dependencies resolves the whole runtime closure of cassandra-all and
  # copies it (plus cassandra-all itself) into one flat lib dir.
  if ! mvn -B -q -f "$build/pom.xml" -Dmaven.repo.local="$M2_DIR" \
      "$DEP_PLUGIN:copy-dependencies" -DincludeScope=runtime \
      -DoutputDirectory="$build/lib" >"$build/mvn.log" 2>&1; then
    tail -n 40 "$build/mvn.log" >&2
    die "maven could not fetch cassandra-all $CASSANDRA_VERSION (see $build/mvn.log)"
  fi
  [[ -f "$build/lib/cassandra-all-$CASSANDRA_VERSION.jar" ]] || die "cassandra-all jar missing after mvn"
  # Publish atomically so an interrupted install is never taken as complete.
  rm -rf "$DIST_DIR" && mkdir -p "$DIST_DIR"
  mv "$build/lib" "$DIST_DIR/lib"
  touch "$DIST_DIR/.installed"
  rm -rf "$build"
  local jars=("$DIST_DIR"/lib/*.jar)
  log "installed ${#jars[@]} jars"
}

write_pom() {
  cat >"$1" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.inventory</groupId>
  <artifactId>cassandra-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>$CASSANDRA_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
}

# ----------------------------------------------------------------- config ---

# Minimal single-node config: loopback only, tiny caches/memtables, no auth,
# no auto-snapshots (tests drop/truncate tables a lot).
write_yaml() {
  local sync
  sync="$(commitlog_sync_yaml)"
  mkdir -p "$CONF_DIR/triggers" "$DATA_DIR"
  cat >"$CONF_DIR/cassandra.yaml" <<EOF
cluster_name: inventory-test
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:$CASSANDRA_STORAGE_PORT"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: $CASSANDRA_STORAGE_PORT
start_native_transport: true
native_transport_port: $CASSANDRA_PORT

authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
network_authorizer: AllowAllNetworkAuthorizer

data_file_directories:
  - $DATA_DIR/data
commitlog_directory: $DATA_DIR/commitlog
hints_directory: $DATA_DIR/hints
saved_caches_directory: $DATA_DIR/saved_caches
cdc_raw_directory: $DATA_DIR/cdc_raw

$sync
commitlog_segment_size: 16MiB
disk_failure_policy: stop
commit_failure_policy: stop

memtable_heap_space: 64MiB
memtable_offheap_space: 64MiB
key_cache_size: 8MiB
row_cache_size: 0MiB
counter_cache_size: 4MiB
file_cache_size: 32MiB
networking_cache_size: 16MiB
prepared_statements_cache_size: 8MiB
concurrent_compactors: 1

auto_snapshot: false
snapshot_before_compaction: false
hinted_handoff_enabled: false
# Fresh cluster, never upgraded from 4.x: use 5.0's native formats.
storage_compatibility_mode: NONE
EOF
}

# Fault tests SIGKILL the node, and commitlog replay ignores whatever was
# written after the last sync marker: with `periodic` (Cassandra's default)
# acknowledged writes of the last period were measured to be lost on kill -9.
# `batch` acks a write only once its commitlog entry is fsynced.
commitlog_sync_yaml() {
  case "$COMMITLOG_SYNC" in
    batch) echo "commitlog_sync: batch" ;;
    group) printf 'commitlog_sync: group\ncommitlog_sync_group_window: 10ms\n' ;;
    periodic) printf 'commitlog_sync: periodic\ncommitlog_sync_period: 10000ms\n' ;;
    *) die "CASSANDRA_COMMITLOG_SYNC must be batch, group or periodic" ;;
  esac
}

write_logback() {
  cat >"$CONF_DIR/logback.xml" <<'EOF'
<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
EOF
}

# ------------------------------------------------------------------- JVM ---

# Size like "1G"/"512M"/"1024m" (or plain bytes) -> MiB.
to_mib() {
  local s="$1"
  case "$s" in
    *[gG]) echo $((${s%?} * 1024)) ;;
    *[mM]) echo "${s%?}" ;;
    *[kK]) echo $((${s%?} / 1024)) ;;
    *) echo $((s / 1048576)) ;;
  esac
}

jvm_flags() {
  local xmx xms
  xmx="$(to_mib "$CASSANDRA_HEAP")"
  xms=$((xmx < 512 ? xmx : 512))
  local jamm=("$DIST_DIR"/lib/jamm-*.jar)
  JVM_FLAGS=(
    "-Xms${xms}m" "-Xmx${xmx}m"
    # conf/jvm-server.options (general)
    -ea -da:net.openhft... -Xss256k
    -XX:+UseThreadPriorities -XX:+UseTLAB -XX:+ResizeTLAB
    -XX:+PerfDisableSharedMem -XX:+ExitOnOutOfMemoryError
    -Djava.net.preferIPv4Stack=true
    # conf/jvm17-server.options: G1 (region size left to the JVM: small heap)
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1
    -XX:G1RSetUpdatingPauseTimePercent=5 -XX:MaxGCPauseMillis=300
    -XX:InitiatingHeapOccupancyPercent=70
    # conf/jvm17-server.options: JPMS (required on Java 17)
    -Djdk.attach.allowAttachSelf=true
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
    --add-opens java.base/java.nio=ALL-UNNAMED
    # conf/jvm17-server.options: Netty
    -Dio.netty.tryReflectionSetAccessible=true
    -Dio.netty.allocator.useCacheForAllThreads=true
    -Dio.netty.allocator.maxOrder=11
    # Where things live (normally set by bin/cassandra).
    "-Dcassandra.config=file://$CONF_DIR/cassandra.yaml"
    "-Dlogback.configurationFile=file://$CONF_DIR/logback.xml"
    "-Dcassandra.storagedir=$DATA_DIR"
    "-Dcassandra.logdir=$CASSANDRA_HOME"
    "-Dcassandra.triggers_dir=$CONF_DIR/triggers"
    # Keep stdout open: it is the log (the daemon closes it otherwise).
    -Dcassandra-foreground=yes
    # Fast single-node startup: no gossip settling, no ring delay; auth
    # tables are not used (AllowAll), so do not wait to create the superuser.
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.ring_delay_ms=1000
    -Dcassandra.superuser_setup_delay_ms=0
    # Fast stop: no peers to tell about the shutdown (saves 2 s) nor to let
    # in-flight messages drain to (saves 2 s); the drain/flush still runs.
    -Dcassandra.shutdown_announce_in_ms=0
    -Dcassandra.test.messagingService.nonGracefulShutdown=true
    # Chronicle (audit/FQL libs) must not try to phone home.
    -Dchronicle.analytics.disable=true -Dchronicle.announcer.disable=true
  )
  # Cassandra measures object sizes with jamm; bin/cassandra loads it as agent.
  [[ -f "${jamm[0]}" ]] && JVM_FLAGS+=("-javaagent:${jamm[0]}")
  return 0
}

# ------------------------------------------------------------- lifecycle ---

# True if the pid file names a live CassandraDaemon (guards against a stale
# pid file whose pid was reused by something else).
pid_alive() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q CassandraDaemon
}

# True when the port speaks CQL: send an OPTIONS frame (protocol v4, stream 0,
# opcode 0x05, empty body) and expect a SUPPORTED (0x06) response header.
cql_ready() {
  local hdr
  hdr="$(timeout 3 bash -c '
      exec 3<>/dev/tcp/127.0.0.1/'"$CASSANDRA_PORT"' || exit 1
      printf "\x04\x00\x00\x00\x05\x00\x00\x00\x00" >&3
      head -c 5 <&3 | od -An -tx1 | tr -d " \n"' 2>/dev/null)" || return 1
  [[ "$hdr" == "8400000006" ]]
}

status() {
  cql_ready
}

start() {
  with_lock
  if cql_ready; then
    log "already running on 127.0.0.1:$CASSANDRA_PORT"
    return 0
  fi
  if ! pid_alive; then
    install
    launch
  else
    log "process $(cat "$PID_FILE") is up but CQL not yet; waiting"
  fi
  wait_ready
}

launch() {
  write_yaml
  write_logback
  jvm_flags
  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1" # one log per run
  log "starting Cassandra $CASSANDRA_VERSION (heap $CASSANDRA_HEAP, CQL port $CASSANDRA_PORT)"
  rm -f "$PID_FILE"
  # setsid: own session, so the caller's Ctrl-C / process-group kill (e.g. a
  # test runner timing out) does not take the database down with it. The
  # inner shell writes its own pid and execs java, so the pid file is exact.
  # 9>&- : the JVM must not inherit (and so hold forever) our lock.
  # shellcheck disable=SC2016 # $$/$0/$@ belong to the inner shell
  (cd "$CASSANDRA_HOME" && MALLOC_ARENA_MAX=4 exec setsid bash -c \
      'echo $$ >"$0" && exec "$@"' "$PID_FILE" \
      java "${JVM_FLAGS[@]}" -cp "$DIST_DIR/lib/*" \
      org.apache.cassandra.service.CassandraDaemon \
      </dev/null >"$LOG_FILE" 2>&1 9>&-) &
  local i
  for ((i = 0; i < 50; i++)); do [[ -s "$PID_FILE" ]] && return 0; sleep 0.1; done
  die "Cassandra did not launch (log: $LOG_FILE)"
}

wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until cql_ready; do
    if ! pid_alive; then
      tail -n 60 "$LOG_FILE" >&2 || true
      die "Cassandra exited during startup (log: $LOG_FILE)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 60 "$LOG_FILE" >&2 || true
      die "CQL not ready on port $CASSANDRA_PORT after ${START_TIMEOUT}s (log: $LOG_FILE)"
    fi
    sleep 0.5
  done
  log "CQL ready on 127.0.0.1:$CASSANDRA_PORT (pid $(cat "$PID_FILE"))"
}

stop() {
  with_lock
  if ! pid_alive; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  local pid deadline
  pid="$(cat "$PID_FILE")"
  # SIGTERM runs Cassandra's shutdown hook (drain: flush memtables, close
  # commitlog), which makes the next start skip most commitlog replay.
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still alive after ${STOP_TIMEOUT}s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

wipe() {
  stop
  rm -rf "$DATA_DIR"
  log "data removed"
}

usage() { sed -n '/^# Usage:/,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; }

main() {
  case "${1:-}" in
    install) with_lock; install ;;
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    status) status ;;
    wipe) wipe ;;
    log) tail -n "${2:-100}" "$LOG_FILE" ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
