package samples

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed data
var data embed.FS

// FS holds the samples, one folder per source (cloudtrail, guardduty,
// health, ...), plus SOURCES.md.
var FS fs.FS = mustSub(data, "data")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the embed directive guarantees the folder exists
	}
	return sub
}

// Names lists every sample event's path within FS ("health/x.json"),
// sorted.
func Names() []string {
	var names []string
	_ = fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path.Ext(p) == ".json" {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	return names
}

// Read returns one sample by its path within FS.
func Read(name string) ([]byte, error) {
	return fs.ReadFile(FS, strings.TrimPrefix(name, "/"))
}
