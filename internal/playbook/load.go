package playbook

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/firebreak-sec/firebreak/internal/action"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// LoadFile compiles one playbook file from disk.
func LoadFile(reg *action.Registry, file string) (*Plan, error) {
	info, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("playbook: %w", err)
	}
	if info.Size() > int64(maxFileSize) {
		return nil, ErrorList{{File: file, Msg: fmt.Sprintf(string(msgTooLarge), info.Size(), maxFileSize)}}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("playbook: %w", err)
	}
	return Compile(reg, file, data)
}

// Load compiles every *.yaml and *.yml file directly in dir of fsys,
// sorted by file name, and checks that playbook names are unique. The
// error, if any, is an ErrorList of every problem in every file.
func Load(reg *action.Registry, fsys fs.FS, dir string) ([]*Plan, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("playbook: %w", err)
	}
	var (
		plans []*Plan
		errs  ErrorList
		other []error
	)
	byName := map[string]*Plan{}
	for _, e := range entries {
		if e.IsDir() || (path.Ext(e.Name()) != ".yaml" && path.Ext(e.Name()) != ".yml") {
			continue
		}
		file := path.Join(dir, e.Name())
		p, err := compileFS(reg, fsys, file)
		var list ErrorList
		switch {
		case errors.As(err, &list):
			errs = append(errs, list...)
			continue
		case err != nil:
			other = append(other, err)
			continue
		}
		if first, dup := byName[p.name]; dup {
			errs = append(errs, duplicateName(p, first))
			continue
		}
		byName[p.name] = p
		plans = append(plans, p)
	}
	if len(other) > 0 {
		return nil, errors.Join(append(other, errs.err())...)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return plans, nil
}

func compileFS(reg *action.Registry, fsys fs.FS, file string) (*Plan, error) {
	if info, err := fs.Stat(fsys, file); err == nil && info.Size() > int64(maxFileSize) {
		return nil, ErrorList{{File: file, Msg: fmt.Sprintf(string(msgTooLarge), info.Size(), maxFileSize)}}
	}
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("playbook: %w", err)
	}
	return Compile(reg, file, data)
}

func duplicateName(p, first *Plan) *Error {
	return &Error{File: p.file, Line: p.nameLine, Col: p.nameCol, Path: "name",
		Msg: fmt.Sprintf(string(msgDuplicateName), p.name, first.file)}
}

// LoadPaths compiles playbook files and directories (every *.yaml and
// *.yml directly inside), as `firebreak playbook validate` does. It
// returns the plans that compiled, sorted by file, and an ErrorList of
// every problem, including a name defined twice; both may be non-empty.
func LoadPaths(reg *action.Registry, paths ...string) ([]*Plan, error) {
	var files []string
	var other []error
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			other = append(other, fmt.Errorf("playbook: %w", err))
			continue
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			other = append(other, fmt.Errorf("playbook: %w", err))
			continue
		}
		for _, e := range entries {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	var (
		plans  []*Plan
		errs   ErrorList
		byName = map[string]*Plan{}
	)
	for _, f := range files {
		p, err := LoadFile(reg, f)
		var list ErrorList
		switch {
		case errors.As(err, &list):
			errs = append(errs, list...)
		case err != nil:
			other = append(other, err)
		default:
			if first, dup := byName[p.name]; dup {
				errs = append(errs, duplicateName(p, first))
				continue
			}
			byName[p.name] = p
			plans = append(plans, p)
		}
	}
	if len(other) > 0 {
		return plans, errors.Join(append(other, errs.err())...)
	}
	return plans, errs.err()
}

// Builtin compiles the playbooks embedded in the binary
// (internal/playbook/builtin).
func Builtin(reg *action.Registry) ([]*Plan, error) {
	return Load(reg, builtinFS, "builtin")
}

// Overlay combines built-in playbooks with a directory's: a playbook in
// over replaces the built-in one of the same name, and the rest are
// added. The result is sorted by name.
func Overlay(builtin, over []*Plan) []*Plan {
	byName := map[string]*Plan{}
	for _, p := range builtin {
		byName[p.name] = p
	}
	for _, p := range over {
		byName[p.name] = p
	}
	out := make([]*Plan, 0, len(byName))
	for _, p := range byName {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Plan) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return out
}
