package kafkatest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stratadb/strata/internal/testutil"
)

// EnvAddr names the environment variable that points the tests at an
// already running broker (host:port) instead of starting one.
const EnvAddr = "STRATA_KAFKA"

// The broker of this test binary, set once by Main before any test runs and
// only read afterwards.
var state struct {
	main    bool   // Main ran
	addr    string // bootstrap address, when a broker is available
	missing string // why no broker: a prerequisite is missing (skip, or fail under CI)
	broken  string // why no broker: it failed to start (always a failure)
}

// opTimeout bounds each helper's round trips to the broker.
const opTimeout = 30 * time.Second

// Main runs a package's tests with a Kafka broker. Call it from TestMain:
//
//	func TestMain(m *testing.M) { kafkatest.Main(m) }
//
// It starts one broker for the whole test binary with scripts/kafka.sh (or
// uses the one named by STRATA_KAFKA), runs the tests, stops the broker and
// exits. When Java or Maven is missing the tests still run, and those that
// call Addr skip with the reason (fail under STRATA_CI=1).
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if !flag.Parsed() {
		flag.Parse() // for testing.Verbose
	}
	state.main = true
	if a := os.Getenv(EnvAddr); a != "" {
		state.addr = a
		return m.Run()
	}
	dir, stop, err := start()
	switch {
	case errors.Is(err, errMissing):
		state.missing = err.Error()
	case err != nil:
		state.broken = err.Error()
	}
	code := m.Run()
	if stop != nil {
		if err := stop(); err != nil {
			fmt.Fprintf(os.Stderr, "kafkatest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	if dir != "" && code == 0 {
		os.RemoveAll(dir)
	} else if dir != "" {
		fmt.Fprintf(os.Stderr, "kafkatest: broker files kept in %s\n", dir)
	}
	return code
}

var errMissing = errors.New("kafkatest: prerequisite missing")

type missingError struct{ msg string }

func (e missingError) Error() string { return e.msg }
func (e missingError) Is(target error) bool {
	return target == errMissing
}

// start launches the broker and returns its directory and a stop function.
func start() (string, func() error, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return "", nil, missingError{"kafkatest: java not found: tests that need Kafka need Java 17 (apt-get install default-jdk-headless)"}
	}
	if _, err := exec.LookPath("bash"); err != nil {
		return "", nil, missingError{"kafkatest: bash not found: scripts/kafka.sh needs it"}
	}
	root, err := repoRoot()
	if err != nil {
		return "", nil, err
	}
	script := filepath.Join(root, "scripts", "kafka.sh")
	dir, err := os.MkdirTemp("", "strata-kafka-")
	if err != nil {
		return "", nil, fmt.Errorf("kafkatest: %w", err)
	}
	t0 := time.Now()
	cmd := exec.Command("bash", script, "start", dir)
	cmd.Env = append(os.Environ(), "KAFKA_OWNER_PID="+strconv.Itoa(os.Getpid()))
	if os.Getenv("KAFKA_START_TIMEOUT") == "" {
		// A loaded 2-core machine (parallel test binaries, fuzzing) can
		// take well over kafka.sh's default minute to start a JVM broker.
		cmd.Env = append(cmd.Env, "KAFKA_START_TIMEOUT=180")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "mvn not found") {
			return dir, nil, missingError{"kafkatest: " + msg}
		}
		return dir, nil, fmt.Errorf("kafkatest: %s start %s: %w\n%s", script, dir, err, msg)
	}
	state.addr = strings.TrimSpace(string(out))
	stop := func() error {
		out, err := exec.Command("bash", script, "stop", dir).CombinedOutput()
		if err != nil {
			return fmt.Errorf("kafkatest: stopping the broker in %s: %w\n%s", dir, err, out)
		}
		return nil
	}
	if err := waitReady(state.addr); err != nil {
		stop()
		return dir, nil, err
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "kafkatest: broker %s ready in %v (files in %s)\n", state.addr, time.Since(t0).Round(time.Millisecond), dir)
	}
	return dir, stop, nil
}

// waitReady waits until the broker answers metadata requests with itself
// registered, so the first test does not race the broker's start-up.
func waitReady(addr string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return fmt.Errorf("kafkatest: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for {
		bs, err := adm.ListBrokers(ctx)
		if err == nil && len(bs) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafkatest: broker %s started but did not answer metadata requests: %v", addr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("kafkatest: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("kafkatest: no go.mod above the working directory: cannot find scripts/kafka.sh")
		}
		dir = up
	}
}

// Addr returns the broker's bootstrap address (host:port). Without a broker
// it skips t with the reason, or fails t under STRATA_CI=1 or when the
// broker failed to start.
func Addr(t testing.TB) string {
	t.Helper()
	switch {
	case state.addr != "":
		return state.addr
	case !state.main:
		t.Fatal("kafkatest: Main did not run: call kafkatest.Main(m) from the package's TestMain")
	case state.missing != "":
		testutil.SkipOrFail(t, state.missing)
	default:
		t.Fatal(state.broken)
	}
	return ""
}

// client returns a client of the broker, closed when t ends.
func client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(Addr(t))}, opts...)...)
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// CreateTopic creates topic with the given number of partitions (one
// replica) and waits until every partition has a leader.
func CreateTopic(t testing.TB, topic string, partitions int) {
	t.Helper()
	adm := kadm.NewClient(client(t))
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, int32(partitions), 1, nil, topic); err != nil {
		t.Fatalf("kafkatest: create topic %q with %d partitions: %v", topic, partitions, err)
	}
	for {
		td, err := adm.ListTopics(ctx, topic)
		if err == nil && td[topic].Err == nil && len(td[topic].Partitions) == partitions {
			ready := true
			for _, p := range td[topic].Partitions {
				ready = ready && p.Leader >= 0 && p.Err == nil
			}
			if ready {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("kafkatest: topic %q has no leaders %v after creation (last error: %v)", topic, opTimeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Produce writes values, in order, to one partition of topic with franz-go
// and waits for every acknowledgement. A nil value is a tombstone.
func Produce(t testing.TB, topic string, partition int, values [][]byte) {
	t.Helper()
	cl := client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(5*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rs := make([]*kgo.Record, len(values))
	for i, v := range values {
		rs[i] = &kgo.Record{Topic: topic, Partition: int32(partition), Value: v}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("kafkatest: produce %d records to %s/%d: %v", len(values), topic, partition, err)
	}
}

// KcatProduce writes lines, one record each, to one partition of topic with
// the kcat binary (an independent client), and waits for it to exit. Without
// kcat on PATH it skips t (fails under STRATA_CI=1).
func KcatProduce(t testing.TB, topic string, partition int, lines []string) {
	t.Helper()
	addr := Addr(t)
	bin, err := exec.LookPath("kcat")
	if err != nil {
		testutil.SkipOrFail(t, "kafkatest: kcat not found: apt-get install kcat")
		return
	}
	var in strings.Builder
	for i, l := range lines {
		if strings.ContainsAny(l, "\n") {
			t.Fatalf("kafkatest: kcat line %d holds a newline, which would split it in two records", i)
		}
		in.WriteString(l)
		in.WriteByte('\n')
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-P", "-b", addr, "-t", topic, "-p", strconv.Itoa(partition),
		"-X", "acks=all", "-X", "linger.ms=5")
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kafkatest: kcat -P -b %s -t %s -p %d: %v\n%s", addr, topic, partition, err, out)
	}
}

// AddPartitions adds add partitions to topic.
func AddPartitions(t testing.TB, topic string, add int) {
	t.Helper()
	adm := kadm.NewClient(client(t))
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rs, err := adm.CreatePartitions(ctx, add, topic)
	if err == nil {
		err = rs.Error()
	}
	if err != nil {
		t.Fatalf("kafkatest: add %d partitions to topic %q: %v", add, topic, err)
	}
}
