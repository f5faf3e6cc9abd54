package kafkatest_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stratadb/strata/internal/testutil/kafkatest"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

// TestProduce checks that records written by both producers arrive, in
// order, in the partition they were sent to.
func TestProduce(t *testing.T) {
	addr := kafkatest.Addr(t)
	const topic = "kafkatest-produce"
	kafkatest.CreateTopic(t, topic, 2)
	kafkatest.Produce(t, topic, 1, [][]byte{[]byte("a"), []byte("b")})
	kafkatest.KcatProduce(t, topic, 1, []string{"c", `{"d":1}`})

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(0), 1: kgo.NewOffset().At(0)}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []string
	for len(got) < 4 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("poll: %v (got %q)", err, got)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Partition != 1 {
				t.Errorf("record %q in partition %d, want 1", r.Value, r.Partition)
			}
			got = append(got, string(r.Value))
		})
	}
	want := []string{"a", "b", "c", `{"d":1}`}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
