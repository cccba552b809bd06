package app

import "runtime/debug"

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
