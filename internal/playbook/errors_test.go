package playbook

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

// TestErrorFixtures compiles the YAML files of each testdata/errors/*.txtar
// (loaded together, as from one directory) and compares every error line
// with the archive's "errors" file. The archive's comment may set
// "maxsize: N" to lower the file-size limit.
func TestErrorFixtures(t *testing.T) {
	reg := testRegistry(t)
	files, err := filepath.Glob("testdata/errors/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fsys := fstest.MapFS{}
			var want []byte
			wantIdx := -1
			for i, f := range ar.Files {
				if f.Name == "errors" {
					want, wantIdx = f.Data, i
					continue
				}
				fsys[f.Name] = &fstest.MapFile{Data: f.Data}
			}
			if m := regexp.MustCompile(`(?m)^maxsize: (\d+)$`).FindSubmatch(ar.Comment); m != nil {
				n, _ := strconv.Atoi(string(m[1]))
				defer func(old int) { maxFileSize = old }(maxFileSize)
				maxFileSize = n
			}
			_, err = Load(reg, fsys, ".")
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Load: %v; want an ErrorList", err)
			}
			got := list.Error() + "\n"
			if *update {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "errors"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = []byte(got)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(got, string(want)); diff != "" {
				t.Errorf("errors (-got +want):\n%s", diff)
			}
		})
	}
}

// messageConsts returns the names and templates of the message constants
// declared in messages.go.
func messageConsts(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "messages.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				s, _ := strconv.Unquote(lit.Value)
				out[name.Name] = s
			}
		}
	}
	return out
}

// kebab turns msgPatternJSON into pattern-json.
func kebab(name string) string {
	r := []rune(strings.TrimPrefix(name, "msg"))
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1]))) {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// TestEveryMessageHasFixture fails when a message in messages.go has no
// fixture testdata/errors/<kebab-name>.txtar whose expected errors show
// it, or when the messages list misses one.
func TestEveryMessageHasFixture(t *testing.T) {
	consts := messageConsts(t)
	if len(consts) != len(messages) {
		t.Errorf("messages.go declares %d messages; the messages list holds %d", len(consts), len(messages))
	}
	verb := regexp.MustCompile(`%[qsdv]`)
	for name, tmpl := range consts {
		file := filepath.Join("testdata/errors", kebab(name)+".txtar")
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Errorf("%s (%q) has no fixture: %v", name, tmpl, err)
			continue
		}
		parts := verb.Split(tmpl, -1)
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re := regexp.MustCompile(`(?m): ` + strings.Join(parts, ".*") + `$`)
		found := false
		for _, f := range ar.Files {
			if f.Name == "errors" && re.Match(f.Data) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no expected error in %s matches %q", name, file, tmpl)
		}
	}
}

// TestErrorsUseMessages fails when code reports an error with a message
// that is not one of the declared constants.
func TestErrorsUseMessages(t *testing.T) {
	consts := messageConsts(t)
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "errorf" || len(call.Args) < 3 {
				return true
			}
			id, ok := call.Args[2].(*ast.Ident)
			if !ok || consts[id.Name] == "" {
				t.Errorf("%s: errorf with a message that is not a declared constant", fset.Position(call.Pos()))
			}
			return true
		})
	}
}
