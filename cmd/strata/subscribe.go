package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// cmdSubscribe prints a view's changes as they commit: a snapshot first,
// then every insert and delete with its epoch, one JSON object a line.
func cmdSubscribe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("subscribe", stderr)
	from := fs.Uint64("from-epoch", 0, "resume after a disconnect: changes from this epoch on (the server keeps the last 64)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("subscribe takes one view, e.g. strata subscribe -c %s my_view", *cfgPath)
	}
	d, err := loadOrReport(*cfgPath)
	if err != nil {
		return err
	}
	base := serverURL(d)
	if base == "" {
		return fmt.Errorf("subscribe needs a running deployment: start strata run -c %s (with server.http set)", *cfgPath)
	}
	u := base + "/v1/views/" + url.PathEscape(pos[0]) + "/changes"
	if *from > 0 {
		u += fmt.Sprintf("?from_epoch=%d", *from)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("subscribe %s: %s", pos[0], e.Error)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "change":
			if _, err := fmt.Fprintln(stdout, strings.TrimPrefix(line, "data: ")); err != nil {
				return err
			}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}
