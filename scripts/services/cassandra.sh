#!/usr/bin/env bash
# Start a single-node Apache Cassandra for tests on 127.0.0.1 and print its address.
#
# Cassandra comes from Maven Central: Maven copies org.apache.cassandra:cassandra-all
# and its runtime dependencies into a lib folder under the cache dir, once per
# version. The node runs org.apache.cassandra.service.CassandraDaemon with a
# cassandra.yaml written here, on Java 17 (or 11), the versions Cassandra 5.0 supports.
# It waits until a real CQL query succeeds, not just until the port is open.
# Stdout gets one line: export PEROXO_TEST_CASSANDRA_HOSTS=127.0.0.1:PORT
#
# Settings (environment):
#   PEROXO_TEST_CASSANDRA_PORT          native (CQL) port, default 59042
#   PEROXO_TEST_CASSANDRA_STORAGE_PORT  inter-node port, default 57000 (Cassandra's own default 7000 is avoided)
#   PEROXO_CASSANDRA_VERSION            cassandra-all version, default 5.0.9
#   PEROXO_CASSANDRA_HEAP_MIN           -Xms, default 256m
#   PEROXO_CASSANDRA_HEAP_MAX           -Xmx, default 1g
#   PEROXO_CASSANDRA_START_TIMEOUT      seconds to wait for CQL, default 180
#   PEROXO_CASSANDRA_KEEP_DATA          1 keeps the data of the previous run; by default
#                                       each start of the node begins with empty data
#   PEROXO_CASSANDRA_JAVA_HOME          JDK to use; otherwise JAVA_HOME or a Java 17/11 under /usr/lib/jvm
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$SCRIPT_DIR/common.sh"

PORT="${PEROXO_TEST_CASSANDRA_PORT:-59042}"
STORAGE_PORT="${PEROXO_TEST_CASSANDRA_STORAGE_PORT:-57000}"
VERSION="${PEROXO_CASSANDRA_VERSION:-5.0.9}"
# As root Cassandra mlockall()s its memory at start, so -Xms counts fully in RSS
# (about 960 MiB idle with -Xms512m, 700 MiB with 256m, measured with Java 17).
HEAP_MIN="${PEROXO_CASSANDRA_HEAP_MIN:-256m}"
HEAP_MAX="${PEROXO_CASSANDRA_HEAP_MAX:-1g}"
START_TIMEOUT="${PEROXO_CASSANDRA_START_TIMEOUT:-180}"
KEEP_DATA="${PEROXO_CASSANDRA_KEEP_DATA:-0}"

CASSANDRA_DIR="$PEROXO_SERVICES_DIR/cassandra"
LIB_DIR="$CASSANDRA_DIR/lib-$VERSION"
NODE_DIR="$CASSANDRA_DIR/node"
LOG_DIR="$NODE_DIR/logs"
PID_FILE="$NODE_DIR/cassandra.pid"
CONFIG_FILE="$NODE_DIR/cassandra.yaml"

# Print the Java feature version (11, 17, ...) of a java binary.
java_major_version() {
  "$1" -XshowSettings:properties -version 2>&1 \
    | awk -F'= ' '/java.specification.version/ { print $2; exit }'
}

# Print a java binary that Cassandra 5.0 runs on (Java 11 or 17), or fail.
find_java() {
  local candidate major
  local candidates=()
  [ -n "${PEROXO_CASSANDRA_JAVA_HOME:-}" ] && candidates+=("$PEROXO_CASSANDRA_JAVA_HOME/bin/java")
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  candidates+=(/usr/lib/jvm/java-17-openjdk-*/bin/java /usr/lib/jvm/*-17*/bin/java /usr/lib/jvm/java-11-openjdk-*/bin/java /usr/lib/jvm/*-11*/bin/java)
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  for candidate in "${candidates[@]}"; do
    [ -x "$candidate" ] || continue
    major="$(java_major_version "$candidate")"
    if [ "$major" = 17 ] || [ "$major" = 11 ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

cql_ready() {
  if [ -n "$PYTHON" ]; then
    "$PYTHON" "$SCRIPT_DIR/cql_probe.py" 127.0.0.1 "$PORT" >/dev/null 2>&1
  else
    # Without Python, fall back to Cassandra's own log line plus an open port.
    grep -q 'Startup complete' "$LOG_DIR/system.log" 2>/dev/null && tcp_port_open "$PORT"
  fi
}

print_ready() {
  log "ready on 127.0.0.1:$PORT (Cassandra $VERSION, pid $1, RSS $(rss_mib "$1") MiB)"
  emit_env PEROXO_TEST_CASSANDRA_HOSTS "127.0.0.1:$PORT"
}

# Copy cassandra-all and its runtime dependencies from Maven Central into LIB_DIR.
fetch_cassandra() {
  local maven_dir="$CASSANDRA_DIR/maven-$VERSION" fetch_ms
  fetch_ms="$(now_ms)"
  command -v mvn >/dev/null 2>&1 || apt_install maven
  log "fetching org.apache.cassandra:cassandra-all:$VERSION with Maven"
  mkdir -p "$maven_dir"
  cat >"$maven_dir/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by scripts/services/cassandra.sh to fetch Cassandra's jars. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.peroxo.services</groupId>
  <artifactId>cassandra-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>$VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  rm -rf "$LIB_DIR.tmp"
  if ! mvn -B -q -Dstyle.color=never -f "$maven_dir/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIB_DIR.tmp" >"$maven_dir/mvn.log" 2>&1; then
    tail -n 30 "$maven_dir/mvn.log" >&2
    die "mvn dependency:copy-dependencies for cassandra-all:$VERSION failed; see $maven_dir/mvn.log"
  fi
  [ -f "$LIB_DIR.tmp/cassandra-all-$VERSION.jar" ] || die "cassandra-all-$VERSION.jar missing after the Maven copy into $LIB_DIR.tmp"
  rm -rf "$LIB_DIR"
  mv "$LIB_DIR.tmp" "$LIB_DIR"
  log "fetched $(ls "$LIB_DIR" | wc -l) jars in $(elapsed_since "$fetch_ms") s"
}

write_config() {
  # Old data only slows the start: after an unclean stop Cassandra replays the
  # commit log, and keyspaces left by earlier test runs are opened one by one.
  # An empty node started no slower than a clean restart with data (measured
  # 6-8 s against 7-14 s on a loaded 2-core VM).
  if [ "$KEEP_DATA" != 1 ]; then
    rm -rf "$NODE_DIR"/{data,commitlog,saved_caches,hints,cdc_raw}
  fi
  mkdir -p "$NODE_DIR"/{data,commitlog,saved_caches,hints,cdc_raw} "$LOG_DIR"
  # Single node on loopback. Ports avoid Cassandra's defaults (7000, 9042) so a
  # local Cassandra can run beside it. num_tokens 1, no auto snapshot and no
  # auth keep start-up and DROP/TRUNCATE fast for tests.
  cat >"$CONFIG_FILE" <<EOF
# Written by scripts/services/cassandra.sh; rewritten at every start.
cluster_name: peroxo-test
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:$STORAGE_PORT"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: $STORAGE_PORT
native_transport_port: $PORT
start_native_transport: true
endpoint_snitch: SimpleSnitch
commitlog_sync: periodic
commitlog_sync_period: 10000ms
data_file_directories:
  - $NODE_DIR/data
commitlog_directory: $NODE_DIR/commitlog
saved_caches_directory: $NODE_DIR/saved_caches
hints_directory: $NODE_DIR/hints
cdc_raw_directory: $NODE_DIR/cdc_raw
auto_snapshot: false
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
EOF
  cat >"$NODE_DIR/logback.xml" <<'EOF'
<!-- Written by scripts/services/cassandra.sh: INFO and above to system.log. -->
<configuration>
  <appender name="SYSTEMLOG" class="ch.qos.logback.core.FileAppender">
    <file>${cassandra.logdir}/system.log</file>
    <encoder>
      <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
    </encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="SYSTEMLOG" />
  </root>
</configuration>
EOF
}

start_ms="$(now_ms)"
lock_service "$PEROXO_SERVICES_DIR/locks/cassandra.lock"

PYTHON="$(command -v python3 || true)"

pid="$(read_pid_file "$PID_FILE")"
if pid_matches "$pid" CassandraDaemon; then
  if cql_ready; then
    print_ready "$pid"
    exit 0
  fi
  log "Cassandra (pid $pid) is running but a CQL query does not succeed yet; waiting"
else
  JAVA="$(find_java || true)"
  if [ -z "$JAVA" ]; then
    apt_install openjdk-17-jre-headless
    JAVA="$(find_java || true)"
    [ -n "$JAVA" ] || die "no Java 17 or 11 found after installing openjdk-17-jre-headless; set PEROXO_CASSANDRA_JAVA_HOME"
  fi

  [ -f "$LIB_DIR/cassandra-all-$VERSION.jar" ] || fetch_cassandra
  jamm_jar="$(ls "$LIB_DIR"/jamm-*.jar 2>/dev/null | head -n 1)"
  [ -n "$jamm_jar" ] || die "jamm jar not found in $LIB_DIR; remove that folder to fetch again"

  if tcp_port_open "$PORT"; then
    die "port 127.0.0.1:$PORT is already in use by another process; set PEROXO_TEST_CASSANDRA_PORT to a free port"
  fi
  if tcp_port_open "$STORAGE_PORT"; then
    die "port 127.0.0.1:$STORAGE_PORT is already in use by another process; set PEROXO_TEST_CASSANDRA_STORAGE_PORT to a free port"
  fi

  write_config
  [ -f "$LOG_DIR/system.log" ] && mv -f "$LOG_DIR/system.log" "$LOG_DIR/system.log.1"

  jvm_flags=(
    "-Xms$HEAP_MIN" "-Xmx$HEAP_MAX" -Xss256k
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1
    -XX:+ExitOnOutOfMemoryError -XX:+PerfDisableSharedMem
    # Cassandra measures object sizes with jamm, loaded as an agent as bin/cassandra does.
    "-javaagent:$jamm_jar"
    # Module access that Cassandra 5.0 needs on Java 11+, as listed in its
    # conf/jvm17-server.options.
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
    -Dio.netty.tryReflectionSetAccessible=true
    -Dio.netty.allocator.useCacheForAllThreads=true
    -Dio.netty.allocator.maxOrder=11
    -Djava.net.preferIPv4Stack=true
    "-Dcassandra.config=file://$CONFIG_FILE"
    "-Dcassandra.storagedir=$NODE_DIR"
    "-Dcassandra.logdir=$LOG_DIR"
    "-Dlogback.configurationFile=file://$NODE_DIR/logback.xml"
    "-Dcassandra-pidfile=$PID_FILE"
    # A single node has no peers to wait for, so skip the gossip and ring waits.
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.ring_delay_ms=0
  )

  log "starting Cassandra $VERSION on 127.0.0.1:$PORT with $JAVA (log $LOG_DIR/system.log)"
  # setsid detaches the node from the caller's process group. fd 3 (the
  # caller's stdout) and fd 9 (the lock) are closed so the node does not hold
  # them, which would make "$(cassandra.sh)" wait for it to exit.
  setsid "$JAVA" "${jvm_flags[@]}" -cp "$LIB_DIR/*" org.apache.cassandra.service.CassandraDaemon \
    >"$LOG_DIR/stdout.log" 2>&1 </dev/null 3>&- 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
fi

deadline=$(($(date +%s) + START_TIMEOUT))
until cql_ready; do
  if ! process_running "$pid"; then
    tail -n 30 "$LOG_DIR/system.log" "$LOG_DIR/stdout.log" >&2 2>/dev/null || true
    die "Cassandra exited during start-up; see $LOG_DIR/system.log and $LOG_DIR/stdout.log"
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    tail -n 30 "$LOG_DIR/system.log" >&2 2>/dev/null || true
    die "timed out after $START_TIMEOUT s waiting for a CQL query to succeed on 127.0.0.1:$PORT (pid $pid still running); see $LOG_DIR/system.log"
  fi
  sleep 0.5
done
log "started in $(elapsed_since "$start_ms") s"
print_ready "$pid"
