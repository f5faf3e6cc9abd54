// Package kafkatest runs Strata's Kafka tests against a real Apache Kafka
// broker on 127.0.0.1.
//
// Entry points: a package whose tests need Kafka calls Main from its
// TestMain; each test then asks Addr for the bootstrap address and uses
// CreateTopic, Produce (franz-go) and KcatProduce (the kcat binary, an
// independent client) to set up data:
//
//	func TestMain(m *testing.M) { kafkatest.Main(m) }
//
//	func TestX(t *testing.T) {
//		addr := kafkatest.Addr(t) // skips (fails under STRATA_CI=1) without Java
//		kafkatest.CreateTopic(t, "x", 3)
//		kafkatest.Produce(t, "x", 0, [][]byte{[]byte(`{"a":1}`)})
//		...
//	}
//
// Main starts one broker per test binary with scripts/kafka.sh (found by
// walking up from the working directory to go.mod): the broker's jars come
// from Maven Central into $STRATA_CACHE (default ~/.cache/strata), never
// into the repository. With STRATA_KAFKA=host:port set, Main uses that
// broker instead and starts nothing. If the test binary dies without
// stopping the broker (a test timeout), a watchdog left by kafka.sh stops it.
//
// Topics live as long as the broker, so tests pick unique topic names.
//
// Concurrency: Main must run before any test; afterwards every function is
// safe for concurrent use by parallel tests. Clients the helpers create are
// closed when the test ends.
package kafkatest
