package replay

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/source"
)

// Name is the source name in metrics and logs.
const Name = "replay"

// Result is what became of one input.
type Result struct {
	Input   string         // the file name, or "-"
	Outcome source.Outcome // when Err is nil
	Err     error
}

// Inputs expands paths into the files to replay: files as given,
// directories walked recursively (every regular file, sorted), "-" as is.
func Inputs(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no files", p)
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

// Run hands every input to sink, in order, and reports each. It stops
// early only when ctx is done.
func Run(ctx context.Context, sink source.Sink, inputs []string, stdin io.Reader) []Result {
	var out []Result
	for _, in := range inputs {
		if ctx.Err() != nil {
			out = append(out, Result{Input: in, Err: ctx.Err()})
			continue
		}
		raw, err := read(in, stdin)
		if err != nil {
			out = append(out, Result{Input: in, Err: err})
			continue
		}
		o, err := sink.Ingest(ctx, raw, source.Meta{Source: Name, MessageID: in})
		if pe, ok := source.Poisoned(err); ok {
			err = pe.Err
		}
		out = append(out, Result{Input: in, Outcome: o, Err: err})
	}
	return out
}

// read reads one input up to the decoder's size limit.
func read(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, event.DefaultMaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > event.DefaultMaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", event.ErrTooLarge, event.DefaultMaxBytes)
	}
	return b, nil
}

// Failed counts the results with an error.
func Failed(rs []Result) int {
	n := 0
	for _, r := range rs {
		if r.Err != nil {
			n++
		}
	}
	return n
}
