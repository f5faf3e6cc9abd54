// Package file is the "file" source connector: bounded files of records, one
// record a line (JSON lines), matched by a glob.
//
//	sources:
//	  - name: bids
//	    connector: file
//	    options: {path: data/*.jsonl, max_line_bytes: 1048576}
//	    format: json
//
// Entry points: the package registers itself with connect.RegisterSource
// from init (import it, or connect/all, for its side effect); Open returns
// the *Source directly, for tests and embedding. Options lists the options.
//
// Partitions are the matched paths as written relative to the deployment's
// BaseDir (absolute when the pattern is), cleaned and sorted, so they are
// stable across runs. Positions are 0-based line numbers. Next proposes
// complete lines file after file, in partition order, at most max in total;
// a final line without '\n' is complete, because files are bounded (the
// connector does not follow growing files). Next remembers the byte offset of
// each epoch boundary it produces (a small bounded index per file), so Read
// seeks straight to it; a Read for a range not in the index (a replay after a
// restart) scans from the start of the file counting lines. Files must not
// change while a deployment reads them: a range past the end of a file is an
// error, not a dead letter.
//
// Bad input never stops a Read: a line that does not decode, or is longer
// than max_line_bytes, comes back as a core.DeadLetter naming the source, the
// file (Partition), the 1-based line (Offset), the reason and the raw line
// (truncated to max_line_bytes). Blank lines are skipped but count as
// positions. Seek ignores positions of files the glob no longer matches.
//
// Concurrency: a Source is driven by one goroutine, as core.Source says; it
// holds no goroutines and opens each file only for the duration of a call.
// Ownership: the batches passed to emit are borrowed, valid only during the
// call (the source releases them after emit returns); dead letters are
// owned by the caller.
package file
