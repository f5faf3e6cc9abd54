#!/usr/bin/env bash
# kafka.sh: a real single-node Apache Kafka broker for Strata's tests.
#
# No Docker and no downloads except Maven Central: the broker's jars are
# resolved with Maven into a cache directory outside the repository and run
# with the local Java (17+).
#
#   scripts/kafka.sh fetch        resolve the broker's jars into the cache (idempotent)
#   scripts/kafka.sh start DIR    start a KRaft broker+controller whose files live in DIR;
#                                 prints its bootstrap address (127.0.0.1:PORT)
#   scripts/kafka.sh stop DIR     stop the broker started in DIR (SIGTERM, then SIGKILL)
#   scripts/kafka.sh addr DIR     print the bootstrap address of the broker in DIR
#
# Environment:
#   STRATA_CACHE         cache root (default $HOME/.cache/strata); jars go to
#                        $STRATA_CACHE/kafka-$KAFKA_VERSION/libs, Maven's local
#                        repository to $STRATA_CACHE/m2
#   KAFKA_VERSION        org.apache.kafka:kafka_2.13 version (default 4.3.1)
#   KAFKA_HEAP_OPTS      JVM heap flags (default -Xms128m -Xmx512m)
#   KAFKA_START_TIMEOUT  seconds to wait for the broker (default 60)
#   KAFKA_OWNER_PID      if set, start leaves a watchdog that stops the broker
#                        once this process has exited (kafkatest sets it)
#
# Files under DIR: server.properties, log4j2.properties, data/ (the log
# dir), kafka.log (the broker's output), kafka.pid, kafka.addr.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.3.1}"
CACHE="${STRATA_CACHE:-$HOME/.cache/strata}"
HOME_DIR="$CACHE/kafka-$KAFKA_VERSION"
LIBS="$HOME_DIR/libs"
M2="$CACHE/m2"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
HEAP="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"
# The SLF4J binding the broker logs through (Kafka 4 logs with Log4j 2).
LOG4J_VERSION="2.24.3"
SLF4J_VERSION="2.0.17"

die() {
	echo "kafka.sh: $*" >&2
	exit 1
}

need_java() {
	command -v java >/dev/null 2>&1 || die "java not found: make test needs Java 17 or newer (apt-get install default-jdk-headless)"
	local v
	v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
	if [ -n "$v" ] && [ "$v" -lt 17 ]; then
		die "java $v found: Kafka $KAFKA_VERSION needs Java 17 or newer"
	fi
}

# fetch resolves kafka_2.13 and its runtime dependencies into $LIBS. A
# complete cache is marked by $LIBS/.complete; concurrent fetches (several
# test packages starting at once) serialise on a lock file.
fetch() {
	if [ -f "$LIBS/.complete" ]; then
		return 0
	fi
	command -v mvn >/dev/null 2>&1 || die "mvn not found: fetching the Kafka broker needs Maven (apt-get install maven)"
	mkdir -p "$HOME_DIR"
	exec 9>"$HOME_DIR/.lock"
	if command -v flock >/dev/null 2>&1; then
		flock 9
	fi
	if [ -f "$LIBS/.complete" ]; then # another process fetched while we waited
		exec 9>&-
		return 0
	fi
	local tmp
	tmp=$(mktemp -d "$HOME_DIR/fetch.XXXXXX")
	cat >"$tmp/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.strata</groupId>
  <artifactId>kafka-test-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- the broker: kafka.Kafka, kafka.tools.StorageTool and everything they load -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- the logging the Kafka distribution ships (SLF4J 2 over Log4j 2), so the
         broker logs to kafka.log; the poms alone name SLF4J 1.7 and no backend -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
      <version>$SLF4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
	echo "kafka.sh: fetching Kafka $KAFKA_VERSION from Maven Central into $LIBS" >&2
	if ! (cd "$tmp" && mvn -q -B -Dmaven.repo.local="$M2" \
		org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$tmp/libs" >"$tmp/mvn.log" 2>&1); then
		tail -n 30 "$tmp/mvn.log" >&2
		die "maven could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION (full log: $tmp/mvn.log)"
	fi
	ls "$tmp/libs"/kafka_2.13-*.jar >/dev/null 2>&1 || die "maven ran but no kafka_2.13 jar arrived in $tmp/libs"
	touch "$tmp/libs/.complete"
	rm -rf "$LIBS"
	mv "$tmp/libs" "$LIBS"
	rm -rf "$tmp"
	exec 9>&-
	echo "kafka.sh: fetched $(ls "$LIBS" | wc -l) jars" >&2
}

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	die "no free TCP port found on 127.0.0.1"
}

write_config() {
	local dir=$1 bport=$2 cport=$3
	cat >"$dir/server.properties" <<EOF
# Written by scripts/kafka.sh: a single-node KRaft broker+controller for tests.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$bport
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=127.0.0.1:$cport
log.dirs=$dir/data

num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=false
delete.topic.enable=true
group.initial.rebalance.delay.ms=0

# Small segments: tests exercise segment rolls and stay light on disk.
log.segment.bytes=1048576
log.retention.check.interval.ms=60000
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
EOF
	cat >"$dir/log4j2.properties" <<EOF
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
# Start-up and shutdown milestones; start waits for "Kafka Server started".
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = info
EOF
}

java_opts() {
	local dir=$1
	# shellcheck disable=SC2086
	echo $HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
		-Dlog4j2.configurationFile="$dir/log4j2.properties" -Dkafka.logs.dir="$dir"
}

running() {
	local dir=$1
	[ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null
}

# try_start writes the config for fresh ports, formats and starts the broker,
# and waits for it. It returns 2 when the ports were taken meanwhile (the
# caller retries), and dies on any other failure.
try_start() {
	local dir=$1 bport cport cluster pid deadline
	bport=$(free_port)
	cport=$(free_port)
	while [ "$cport" = "$bport" ]; do cport=$(free_port); done
	rm -rf "$dir/data"
	mkdir -p "$dir/data"
	write_config "$dir" "$bport" "$cport"

	# A cluster id is 16 random bytes, base64url without padding; one that
	# starts with "-" would read as a flag.
	cluster=-
	while [ "${cluster#-}" != "$cluster" ]; do
		cluster=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
	done
	# shellcheck disable=SC2046
	if ! java $(java_opts "$dir") -cp "$LIBS/*" kafka.tools.StorageTool format \
		--standalone -t "$cluster" -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
		cat "$dir/format.log" >&2
		die "formatting the log dir $dir/data failed (see $dir/format.log)"
	fi

	: >"$dir/kafka.log"
	# shellcheck disable=SC2046
	nohup java $(java_opts "$dir") -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" \
		>>"$dir/kafka.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$dir/kafka.pid"
	if [ -n "${KAFKA_OWNER_PID:-}" ]; then
		# A watchdog stops the broker when its owner (a test binary) dies
		# without calling stop, e.g. on a test timeout.
		(
			while kill -0 "$KAFKA_OWNER_PID" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
			if kill -0 "$pid" 2>/dev/null; then
				kill -TERM "$pid" 2>/dev/null
				for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
				kill -KILL "$pid" 2>/dev/null
			fi
		) </dev/null >/dev/null 2>&1 &
		disown
	fi

	deadline=$((SECONDS + START_TIMEOUT))
	while :; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$dir/kafka.pid"
			if grep -q "Address already in use" "$dir/kafka.log"; then
				return 2
			fi
			tail -n 30 "$dir/kafka.log" >&2
			die "the broker exited during start-up (log: $dir/kafka.log)"
		fi
		if ! port_free "$bport" && grep -q "Kafka Server started" "$dir/kafka.log"; then
			break
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			tail -n 30 "$dir/kafka.log" >&2
			stop "$dir" || true
			die "the broker did not accept connections on 127.0.0.1:$bport within ${START_TIMEOUT}s (log: $dir/kafka.log)"
		fi
		sleep 0.2
	done
	echo "127.0.0.1:$bport" >"$dir/kafka.addr"
	echo "127.0.0.1:$bport"
}

start() {
	local dir=${1:-}
	[ -n "$dir" ] || die "usage: kafka.sh start DIR"
	need_java
	fetch
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if running "$dir"; then
		die "a broker already runs from $dir (pid $(cat "$dir/kafka.pid")); stop it first"
	fi
	local attempt rc
	for attempt in 1 2 3; do
		rc=0
		try_start "$dir" || rc=$?
		[ "$rc" = 2 ] || return "$rc"
		echo "kafka.sh: a port was taken during start-up, retrying ($attempt/3)" >&2
	done
	die "could not bind free ports after 3 attempts (log: $dir/kafka.log)"
}

stop() {
	local dir=${1:-}
	[ -n "$dir" ] || die "usage: kafka.sh stop DIR"
	[ -f "$dir/kafka.pid" ] || return 0
	local pid i
	pid=$(cat "$dir/kafka.pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 100); do # 10s for a clean shutdown
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "kafka.sh: broker $pid ignored SIGTERM for 10s, sending SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$dir/kafka.pid"
}

case "${1:-}" in
fetch) fetch ;;
start) start "${2:-}" ;;
stop) stop "${2:-}" ;;
addr)
	[ -f "${2:-}/kafka.addr" ] || die "no broker address under ${2:-DIR}"
	cat "$2/kafka.addr"
	;;
*)
	echo "usage: kafka.sh fetch | start DIR | stop DIR | addr DIR" >&2
	exit 2
	;;
esac
