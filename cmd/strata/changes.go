package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/stratadb/strata/engine/core"
)

// change is one row change of a view as push subscribers receive it.
type change struct {
	Epoch    core.Epoch     `json:"epoch"`
	Op       string         `json:"op"` // insert | delete | snapshot
	Row      map[string]any `json:"row"`
	Weight   int64          `json:"weight,omitempty"` // copies, when more than one
	Snapshot bool           `json:"-"`
}

// hub fans the engine's per-epoch view changes out to subscribers, and
// keeps the last epochs of every view so a subscriber can resume.
type hub struct {
	mu     sync.Mutex
	keep   int
	recent map[string][][]change // per view, the last epochs' changes (oldest first)
	oldest map[string]core.Epoch // per view, the first epoch recent holds (0: none yet)
	subs   map[string]map[chan []change]bool
}

func newHub(keep int) *hub {
	return &hub{keep: keep, recent: map[string][][]change{}, oldest: map[string]core.Epoch{}, subs: map[string]map[chan []change]bool{}}
}

// publish is the engine's WithOnChanges callback: it runs on the engine's
// goroutine, converts the epoch's batches and never blocks on a slow
// subscriber (which is cut off instead).
func (h *hub) publish(ep core.Epoch, outputs map[string][]arrow.RecordBatch) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for view, bs := range outputs {
		var cs []change
		for _, b := range bs {
			w := core.Weights(b)
			names := b.Schema().Fields()
			for r := 0; r < int(b.NumRows()); r++ {
				row := make(map[string]any, len(names)-1)
				for c := 0; c < len(names)-1; c++ {
					row[names[c].Name] = jsonValue(core.ValueAt(b.Column(c), r))
				}
				ch := change{Epoch: ep, Op: "insert", Row: row}
				n := w.Value(r)
				if n < 0 {
					ch.Op, n = "delete", -n
				}
				if n != 1 {
					ch.Weight = n
				}
				cs = append(cs, ch)
			}
		}
		h.recent[view] = append(h.recent[view], cs)
		if len(h.recent[view]) > h.keep {
			h.recent[view] = h.recent[view][1:]
		}
		h.oldest[view] = h.recent[view][0][0].Epoch
		for sub := range h.subs[view] {
			select {
			case sub <- cs:
			default: // too slow: close it; the client resumes from its last epoch
				delete(h.subs[view], sub)
				close(sub)
			}
		}
	}
}

// subscribe registers a subscriber of view and returns the buffered changes
// from epoch from on (nil when from is older than what is kept).
func (h *hub) subscribe(view string, from core.Epoch) (chan []change, [][]change, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan []change, 256)
	if h.subs[view] == nil {
		h.subs[view] = map[chan []change]bool{}
	}
	h.subs[view][ch] = true
	var backlog [][]change
	ok := from > 0 && h.oldest[view] > 0 && from >= h.oldest[view]
	if ok {
		for _, cs := range h.recent[view] {
			if len(cs) > 0 && cs[0].Epoch >= from {
				backlog = append(backlog, cs)
			}
		}
	}
	return ch, backlog, ok
}

func (h *hub) unsubscribe(view string, ch chan []change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[view][ch] {
		delete(h.subs[view], ch)
		close(ch)
	}
}

// changes serves GET /v1/views/{view}/changes as server-sent events: a
// snapshot of the view (op "snapshot", at the epoch it read), then every
// change as it commits. ?from_epoch=N resumes after a disconnect without a
// snapshot when the server still holds epoch N.
func (s *server) changes(w http.ResponseWriter, r *http.Request) {
	view := r.PathValue("view")
	if _, ok := s.d.plans[view]; !ok && view != core.DeadLetterView {
		writeErr(w, http.StatusNotFound, fmt.Errorf("%w %q", core.ErrUnknownView, view))
		return
	}
	var from core.Epoch
	if v := r.URL.Query().Get("from_epoch"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("from_epoch: %w", err))
			return
		}
		from = core.Epoch(n)
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeErr(w, http.StatusInternalServerError, errors.New("streaming unsupported"))
		return
	}
	sub, backlog, resumed := s.hub.subscribe(view, from)
	defer s.hub.unsubscribe(view, sub)
	var snapEpoch core.Epoch
	var snapshot *result
	if !resumed {
		// Registered first, then read: nothing committed in between is lost.
		res, err := querySQL(r.Context(), s.backends, fmt.Sprintf("SELECT * FROM %q", view))
		if err != nil {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("snapshot of %s: %w (push queries need the view in duckdb)", view, err))
			return
		}
		snapshot, snapEpoch = res, res.Epoch
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	send := func(c change) error {
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "id: %d\nevent: change\ndata: %s\n\n", c.Epoch, data)
		return err
	}
	if snapshot != nil {
		for _, row := range snapshot.Rows {
			obj := map[string]any{}
			for i, c := range snapshot.Columns {
				obj[c.Name] = row[i]
			}
			if err := send(change{Epoch: snapEpoch, Op: "snapshot", Row: obj}); err != nil {
				return
			}
		}
		fmt.Fprintf(w, "event: snapshot_end\ndata: {\"epoch\": %d}\n\n", snapEpoch)
	}
	for _, cs := range backlog {
		for _, c := range cs {
			if err := send(c); err != nil {
				return
			}
		}
	}
	flusher.Flush()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			flusher.Flush()
		case cs, ok := <-sub:
			if !ok {
				return
			}
			for _, c := range cs {
				if c.Epoch <= snapEpoch {
					continue // already in the snapshot
				}
				if err := send(c); err != nil {
					return
				}
			}
			flusher.Flush()
		}
	}
}
