package app

import (
	"io"
	"log/slog"
	"runtime/debug"
)

// Version is the release version, set at build time with
// -ldflags "-X github.com/firebreak-sec/firebreak/internal/app.Version=v1.2.3".
var Version = "dev"

// BuildInfo describes the running binary.
type BuildInfo struct {
	Version   string `json:"version"`
	GoVersion string `json:"go_version"`
	Commit    string `json:"commit,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
}

// ReadBuildInfo reports the version and, when the binary was built from a
// git checkout, the commit it was built from.
func ReadBuildInfo() BuildInfo {
	bi := BuildInfo{Version: Version}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return bi
	}
	bi.GoVersion = info.GoVersion
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			bi.Commit = s.Value
		case "vcs.modified":
			bi.Modified = s.Value == "true"
		}
	}
	return bi
}

// Options configures an App. Zero values are usable: a nil Logger discards.
type Options struct {
	Logger *slog.Logger
}

// App is one Firebreak process.
type App struct {
	log *slog.Logger
}

// New builds an App from opts.
func New(opts Options) *App {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &App{log: log}
}

// Logger returns the App's logger.
func (a *App) Logger() *slog.Logger { return a.log }
