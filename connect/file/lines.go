package file

import (
	"bufio"
	"errors"
	"io"
)

// lineReader splits a file into lines, tracking byte offsets so a position
// can be indexed and sought later. A line ends at '\n'; a final line without
// one ends at EOF (the file is bounded). The terminator and a '\r' before it
// are not part of the line.
type lineReader struct {
	r   *bufio.Reader
	off int64 // byte offset of the next line
	max int   // lines longer than this are truncated (and reported by n)
	buf []byte
}

func newLineReader(r io.Reader, off int64, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), off: off, max: max}
}

// next reads the next line. With keep, line holds its bytes (borrowed until
// the next call), truncated to max bytes; n is the line's full length. It
// returns io.EOF when no line is left.
func (lr *lineReader) next(keep bool) (line []byte, n int, err error) {
	lr.buf = lr.buf[:0]
	var consumed int64
	for {
		frag, err := lr.r.ReadSlice('\n')
		consumed += int64(len(frag))
		n += len(frag)
		if keep && len(lr.buf) < lr.max+1 {
			room := lr.max + 1 - len(lr.buf)
			lr.buf = append(lr.buf, frag[:min(room, len(frag))]...)
		}
		switch {
		case err == nil:
			lr.off += consumed
			n-- // the '\n'
			line = lr.buf
			if len(line) > 0 && line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			}
			if len(line) > 0 && line[len(line)-1] == '\r' && len(line) == n {
				line = line[:len(line)-1]
				n--
			}
			if len(line) > lr.max {
				line = line[:lr.max]
			}
			return line, n, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if consumed == 0 {
				return nil, 0, io.EOF
			}
			lr.off += consumed
			line = lr.buf
			if len(line) > 0 && line[len(line)-1] == '\r' && len(line) == n {
				line = line[:len(line)-1]
				n--
			}
			if len(line) > lr.max {
				line = line[:lr.max]
			}
			return line, n, nil
		default:
			return nil, 0, err
		}
	}
}
