package pattern

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Matcher matches events against many named patterns at once. It is safe
// for concurrent use: Add and Remove publish a newly compiled automaton,
// and matches in flight finish on the one they started with.
type Matcher struct {
	mu       sync.Mutex // serialises writers
	patterns map[string]*Pattern
	cur      atomic.Pointer[compiled]
}

// NewMatcher returns a Matcher with no patterns.
func NewMatcher() *Matcher {
	m := &Matcher{patterns: map[string]*Pattern{}}
	m.cur.Store(build(nil))
	return m
}

// Add parses pattern and adds it under name, replacing any pattern of that
// name.
func (m *Matcher) Add(name string, pattern []byte) error {
	p, err := Parse(pattern)
	if err != nil {
		return fmt.Errorf("pattern %q: %w", name, err)
	}
	m.AddParsed(map[string]*Pattern{name: p})
	return nil
}

// AddParsed adds parsed patterns by name, replacing any of the same names,
// and recompiles once.
func (m *Matcher) AddParsed(patterns map[string]*Pattern) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, p := range patterns {
		m.patterns[name] = p
	}
	m.cur.Store(build(m.patterns))
}

// Remove removes the named pattern and reports whether it was there.
func (m *Matcher) Remove(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.patterns[name]; !ok {
		return false
	}
	delete(m.patterns, name)
	m.cur.Store(build(m.patterns))
	return true
}

// Names returns the names of the patterns, sorted.
func (m *Matcher) Names() []string {
	return slices.Clone(m.cur.Load().names)
}

// Match appends to dst the names of the patterns that match event, in name
// order, and returns the extended slice. An event that is not valid JSON is
// an error (an *EventError).
func (m *Matcher) Match(event []byte, dst []string) ([]string, error) {
	c := m.cur.Load()
	s := c.pool.Get().(*scratch)
	defer c.put(s)
	s.reset()
	if err := s.scan(event); err != nil {
		return dst, err
	}
	if c.start != nil {
		s.visit(c.start)
		if s.tooComplex {
			return dst, ErrTooComplex
		}
	}
	slices.Sort(s.matched)
	for _, id := range s.matched {
		dst = append(dst, c.names[id])
	}
	return dst, nil
}

// put returns s to the pool, without the memory a huge event made it grow.
func (c *compiled) put(s *scratch) {
	const keep = 1 << 16
	if cap(s.arena) > 16*keep {
		s.arena = nil
	}
	if cap(s.elems) > keep {
		s.elems = nil
	}
	if cap(s.pairs) > keep || cap(s.cache) > keep || cap(s.hits) > keep {
		s.pairs, s.cache, s.hits = nil, nil, nil
	}
	for _, f := range s.touched {
		if cap(s.vals[f]) > keep {
			s.vals[f] = nil
		}
	}
	s.ev = nil // do not keep the caller's event alive
	c.pool.Put(s)
}

// compiled is an immutable automaton built from a set of patterns.
type compiled struct {
	names   []string   // pattern names by id, sorted
	pats    []*Pattern // by id
	root    *tnode     // trie of the field paths patterns name
	fields  []*tnode   // field nodes by field id
	fieldID map[string]int32
	start   *state // nil when there are no patterns
	nedges  int
	nfts    int
	pool    sync.Pool // *scratch
}

// tnode is one step of a field path in the trie the scanner follows.
type tnode struct {
	children map[string]*tnode
	kids     []*tnode // the children when there are few: a scan beats hashing
	field    int32    // field id if a pattern tests this path's values, else -1
	parent   *tnode
	depth    int32
	name     string
}

// linear reports whether some test of the condition is not indexed and
// must be tried value by value.
func (c *condition) linear() bool {
	for i := range c.tests {
		switch c.tests[i].op {
		case opWildcard, opNumeric, opCIDR, opAnythingBut:
			return true
		}
	}
	return false
}

// maxKids is the most children looked up by a linear scan.
const maxKids = 8

// index prepares the child lookup of n and its descendants.
func (n *tnode) index() {
	if len(n.children) <= maxKids {
		for _, k := range n.children {
			n.kids = append(n.kids, k)
		}
	}
	for _, k := range n.children {
		k.index()
	}
}

// child returns the child for key, or nil.
func (n *tnode) child(key string) *tnode {
	if n.kids != nil {
		for _, k := range n.kids {
			if k.name == key {
				return k
			}
		}
		return nil
	}
	return n.children[key]
}

// state is a state of the automaton: the patterns whose every condition
// has been met on the way here, and the transitions on further fields.
type state struct {
	terminals []int32
	trans     []*fieldTrans
	// refs mirrors trans in one contiguous slice, so that fields the event
	// lacks are passed over without loading their transitions.
	refs []transRef
}

// transRef is the part of a fieldTrans visit needs first.
type transRef struct {
	field  int32
	absent bool // some edge is taken when the field has no value
	ft     *fieldTrans
}

// edge is one condition leading out of a state.
type edge struct {
	id   int32
	next *state
	cond *condition
	// keep is the depth in the field trie of the deepest array whose
	// element, chosen by this edge's value, can constrain a later field:
	// arrays deeper than the common path of this field and every later
	// one are forgotten, so values in them are not told apart.
	keep int32
}

// fieldTrans holds the conditions on one field leaving one state, indexed
// by the kind of test.
type fieldTrans struct {
	// Hot: what collect reads for every value, first and together.
	has    uint16 // has* bits: which indexes below are not empty
	id     int32
	field  int32
	small  []exactEntry // exact strings when there are few: compared, not hashed
	exact  map[string][]int32
	linear []linTest // wildcard, numeric, cidr, anything-but
	edges  []*edge

	absent []int32          // edges also taken when the field has no value
	canon  map[string]int32 // condition canon → edge index (build time only)

	nums       map[float64][]int32
	null       []int32
	tru        []int32
	fals       []int32
	any        []int32
	prefix     lenMap
	suffix     lenMap
	foldExact  map[string][]int32
	foldPrefix lenMap
	foldSuffix lenMap
}

// exactEntry is one exact string and the edges it leads along.
type exactEntry struct {
	s     string
	edges []int32
}

// maxSmall is the most exact strings compared one by one.
const maxSmall = 4

// Bits of fieldTrans.has.
const (
	hasExact uint16 = 1 << iota
	hasNums
	hasNull
	hasTrue
	hasFalse
	hasAny
	hasPrefix
	hasSuffix
	hasFold
	hasLinear
)

// finish sets the has bits and the small exact list once ft is built, and
// drops what only building needs.
func (ft *fieldTrans) finish() {
	ft.canon = nil
	set := func(bit uint16, on bool) {
		if on {
			ft.has |= bit
		}
	}
	set(hasExact, len(ft.exact) > 0)
	set(hasNums, len(ft.nums) > 0)
	set(hasNull, len(ft.null) > 0)
	set(hasTrue, len(ft.tru) > 0)
	set(hasFalse, len(ft.fals) > 0)
	set(hasAny, len(ft.any) > 0)
	set(hasPrefix, len(ft.prefix.m) > 0)
	set(hasSuffix, len(ft.suffix.m) > 0)
	set(hasFold, len(ft.foldExact)+len(ft.foldPrefix.m)+len(ft.foldSuffix.m) > 0)
	set(hasLinear, len(ft.linear) > 0)
	if n := len(ft.exact); n > 0 && n <= maxSmall {
		for str, edges := range ft.exact {
			ft.small = append(ft.small, exactEntry{s: str, edges: edges})
		}
		ft.exact = nil
	}
}

// lenMap maps prefixes (or suffixes) to edges, with the distinct lengths
// present so a value needs one lookup per length.
type lenMap struct {
	m    map[string][]int32
	lens []int
}

func (l *lenMap) add(s string, e int32) {
	if l.m == nil {
		l.m = map[string][]int32{}
	}
	if _, ok := l.m[s]; !ok {
		if i, found := slices.BinarySearch(l.lens, len(s)); !found {
			l.lens = slices.Insert(l.lens, i, len(s))
		}
	}
	l.m[s] = appendUnique(l.m[s], e)
}

type linTest struct {
	t    *test
	edge int32
}

func appendUnique(list []int32, e int32) []int32 {
	if len(list) > 0 && list[len(list)-1] == e {
		return list
	}
	return append(list, e)
}

// build compiles patterns into an automaton.
func build(patterns map[string]*Pattern) *compiled {
	c := &compiled{root: &tnode{field: -1}}
	for name := range patterns {
		c.names = append(c.names, name)
	}
	sort.Strings(c.names)
	// Field ids give the order in which the automaton tests fields: first
	// the fields most alternatives use, whose conditions are looked up in
	// hash maps (account, source, detail-type, eventName), so the states
	// near the root are shared by many patterns and one lookup discards
	// whole families of them; last the fields whose conditions must be
	// tried one by one (numeric ranges, cidr, wildcards, anything-but).
	keys := map[string][]string{}
	uses := map[string]int{}
	distinct := map[string]map[string]bool{}
	linear := map[string]int{}
	for _, name := range c.names {
		p := patterns[name]
		c.pats = append(c.pats, p)
		for _, alt := range p.alts {
			for _, cond := range alt {
				keys[cond.key] = cond.segs
				uses[cond.key]++
				if distinct[cond.key] == nil {
					distinct[cond.key] = map[string]bool{}
				}
				if !distinct[cond.key][cond.canon] {
					distinct[cond.key][cond.canon] = true
					if cond.linear() {
						linear[cond.key]++
					}
				}
			}
		}
	}
	order := make([]string, 0, len(keys))
	for k := range keys {
		order = append(order, k)
	}
	late := func(k string) bool { return 2*linear[k] > len(distinct[k]) }
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if late(a) != late(b) {
			return !late(a)
		}
		if uses[a] != uses[b] {
			return uses[a] > uses[b]
		}
		return a < b
	})
	fieldID := map[string]int32{}
	c.fieldID = fieldID
	for _, k := range order {
		n := c.root
		for _, seg := range keys[k] {
			child := n.children[seg]
			if child == nil {
				if n.children == nil {
					n.children = map[string]*tnode{}
				}
				child = &tnode{field: -1, parent: n, depth: n.depth + 1, name: seg}
				n.children[seg] = child
			}
			n = child
		}
		n.field = int32(len(c.fields))
		fieldID[k] = n.field
		c.fields = append(c.fields, n)
	}
	c.root.index()
	if len(c.names) > 0 {
		c.start = &state{}
	}
	for id, p := range c.pats {
		for _, alt := range p.alts {
			conds := slices.Clone(alt)
			sort.SliceStable(conds, func(i, j int) bool {
				fi, fj := fieldID[conds[i].key], fieldID[conds[j].key]
				if fi != fj {
					return fi < fj
				}
				return conds[i].canon < conds[j].canon
			})
			st := c.start
			for _, cond := range conds {
				st = c.addCondition(st, fieldID[cond.key], cond)
			}
			if !slices.Contains(st.terminals, int32(id)) {
				st.terminals = append(st.terminals, int32(id))
			}
		}
	}
	if c.start != nil {
		c.setKeep(c.start, map[*state][]int32{})
	}
	nf, ne, np, nt := len(c.fields), c.nedges, len(c.names), c.nfts
	c.pool.New = func() any {
		return &scratch{
			c:        c,
			vals:     make([][]leaf, nf),
			pgen:     make([]uint32, np),
			edgeGen:  make([]uint32, ne),
			edgeElem: make([]int32, ne),
			ftGen:    make([]uint32, nt),
			ftFrom:   make([]int32, nt),
			ftTo:     make([]int32, nt),
			ftLo:     make([]int32, nt),
			ftHi:     make([]int32, nt),
		}
	}
	return c
}

// setKeep computes keep for every edge below st and returns the fields
// tested below st, sorted.
func (c *compiled) setKeep(st *state, memo map[*state][]int32) []int32 {
	if f, ok := memo[st]; ok {
		return f
	}
	var below []int32
	st.refs = st.refs[:0]
	for _, ft := range st.trans {
		ft.finish()
		st.refs = append(st.refs, transRef{field: ft.field, absent: len(ft.absent) > 0, ft: ft})
		below = append(below, ft.field)
		for _, ed := range ft.edges {
			later := c.setKeep(ed.next, memo)
			ed.keep = -1
			for _, g := range later {
				ed.keep = max(ed.keep, commonDepth(c.fields[ft.field], c.fields[g]))
			}
			below = append(below, later...)
		}
	}
	slices.Sort(below)
	below = slices.Compact(below)
	memo[st] = below
	return below
}

// commonDepth is the depth of the deepest common ancestor of a and b.
func commonDepth(a, b *tnode) int32 {
	for a.depth > b.depth {
		a = a.parent
	}
	for b.depth > a.depth {
		b = b.parent
	}
	for a != b {
		a, b = a.parent, b.parent
	}
	return a.depth
}

// addCondition follows (or creates) the edge for cond out of st and returns
// the state it leads to.
func (c *compiled) addCondition(st *state, field int32, cond *condition) *state {
	var ft *fieldTrans
	for _, t := range st.trans {
		if t.field == field {
			ft = t
			break
		}
	}
	if ft == nil {
		ft = &fieldTrans{id: int32(c.nfts), field: field, canon: map[string]int32{}}
		c.nfts++
		st.trans = append(st.trans, ft)
	}
	if e, ok := ft.canon[cond.canon]; ok {
		return ft.edges[e].next
	}
	e := int32(len(ft.edges))
	ed := &edge{id: int32(c.nedges), next: &state{}, cond: cond}
	c.nedges++
	ft.edges = append(ft.edges, ed)
	ft.canon[cond.canon] = e
	if cond.absentOK {
		ft.absent = append(ft.absent, e)
	}
	for i := range cond.tests {
		t := &cond.tests[i]
		switch t.op {
		case opString:
			if ft.exact == nil {
				ft.exact = map[string][]int32{}
			}
			ft.exact[t.s] = appendUnique(ft.exact[t.s], e)
		case opNumber:
			if ft.nums == nil {
				ft.nums = map[float64][]int32{}
			}
			ft.nums[t.num] = appendUnique(ft.nums[t.num], e)
		case opNull:
			ft.null = appendUnique(ft.null, e)
		case opTrue:
			ft.tru = appendUnique(ft.tru, e)
		case opFalse:
			ft.fals = appendUnique(ft.fals, e)
		case opExists:
			ft.any = appendUnique(ft.any, e)
		case opPrefix:
			ft.prefix.add(t.s, e)
		case opSuffix:
			ft.suffix.add(t.s, e)
		case opPrefixFold:
			ft.foldPrefix.add(t.s, e)
		case opSuffixFold:
			ft.foldSuffix.add(t.s, e)
		case opEqualsFold:
			if ft.foldExact == nil {
				ft.foldExact = map[string][]int32{}
			}
			ft.foldExact[t.s] = appendUnique(ft.foldExact[t.s], e)
		default:
			ft.linear = append(ft.linear, linTest{t: t, edge: e})
		}
	}
	return ed.next
}

// scratch is the per-match working memory, pooled per compiled automaton.
type scratch struct {
	c          *compiled
	ev         []byte
	vals       [][]leaf // by field
	touched    []int32  // fields with values
	arena      []byte   // unescaped strings
	keyBuf     []byte
	elems      []elemInfo
	seq        int32
	narr       int32
	pgen       []uint32 // by pattern: == gen when matched
	gen        uint32
	matched    []int32
	edgeGen    []uint32 // by edge: == egen when taken for the current value set
	edgeElem   []int32
	egen       uint32
	hits       []int32
	fold       []byte
	mstack     []int32 // array elements chosen on the current path
	pairs      []pair  // edges to take, per transition being visited
	cache      []pair  // edges to take from transitions visited unnarrowed
	ftGen      []uint32
	ftFrom     []int32 // by fieldTrans id: cache[ftFrom:ftTo] holds the pairs of
	ftTo       []int32 // values [ftLo:ftHi] when ftGen == gen
	ftLo       []int32
	ftHi       []int32
	steps      int  // work done by visit, against maxSteps
	tooComplex bool // visit gave up
}

// maxSteps bounds the work of matching one event: values examined and
// states visited. Only an event with large arrays, against patterns whose
// fields lie in several of them, comes near it; the match then fails with
// ErrTooComplex instead of taking minutes.
var maxSteps = 1 << 22 // a variable so tests can lower it

// ErrTooComplex is returned by Match for an event whose arrays would make
// matching take too long.
var ErrTooComplex = errors.New("event: too complex to match: too many combinations of array elements")

func (s *scratch) reset() {
	for _, f := range s.touched {
		s.vals[f] = s.vals[f][:0]
	}
	s.touched = s.touched[:0]
	s.arena = s.arena[:0]
	s.elems = append(s.elems[:0], elemInfo{}) // element 0 is "none"
	s.seq, s.narr = 0, 0
	s.gen++
	if s.gen == 0 { // wrapped: forget old marks
		clear(s.pgen)
		clear(s.ftGen)
		s.gen = 1
	}
	s.matched = s.matched[:0]
	s.mstack = s.mstack[:0]
	s.steps, s.tooComplex = 0, false
	s.pairs, s.cache = s.pairs[:0], s.cache[:0]
	s.hits = s.hits[:0]
}

// visit walks the automaton from st; it reports true once every pattern has
// matched, so the walk can stop.
func (s *scratch) visit(st *state) bool {
	if s.steps++; s.steps > maxSteps {
		s.tooComplex = true
		return true
	}
	for _, id := range st.terminals {
		if s.pgen[id] != s.gen {
			s.pgen[id] = s.gen
			s.matched = append(s.matched, id)
		}
	}
	if len(s.matched) == len(s.pgen) {
		return true
	}
	for i := range st.refs {
		ref := &st.refs[i]
		vals := s.vals[ref.field]
		if len(vals) == 0 && !ref.absent {
			continue
		}
		ft := ref.ft
		if len(vals) == 0 {
			for _, e := range ft.absent {
				if s.visit(ft.edges[e].next) {
					return true
				}
			}
			continue
		}
		lo, hi := 0, len(vals)
		if len(s.mstack) > 0 {
			lo, hi = s.narrow(ft.field, vals)
		}
		// The edges the values lead along, with the array element each
		// pins. A transition is reached more than once in an event only
		// under different array elements chosen earlier; the list depends
		// only on the range of values those leave, so the last one
		// computed for each transition is kept and reused.
		cached := len(s.mstack) > 0
		var from, to int
		if cached {
			if s.ftGen[ft.id] != s.gen || s.ftLo[ft.id] != int32(lo) || s.ftHi[ft.id] != int32(hi) {
				if s.steps += hi - lo; s.steps > maxSteps {
					s.tooComplex = true
					return true
				}
				start := len(s.cache)
				s.cache = s.pairsFor(ft, vals, lo, hi, s.cache)
				s.ftGen[ft.id], s.ftLo[ft.id], s.ftHi[ft.id] = s.gen, int32(lo), int32(hi)
				s.ftFrom[ft.id], s.ftTo[ft.id] = int32(start), int32(len(s.cache))
			}
			from, to = int(s.ftFrom[ft.id]), int(s.ftTo[ft.id])
		} else {
			if s.steps += hi - lo; s.steps > maxSteps {
				s.tooComplex = true
				return true
			}
			from = len(s.pairs)
			s.pairs = s.pairsFor(ft, vals, lo, hi, s.pairs)
			to = len(s.pairs)
		}
		for j := from; j < to; j++ {
			var p pair
			if cached {
				p = s.cache[j]
			} else {
				p = s.pairs[j]
			}
			if p.el != 0 {
				s.mstack = append(s.mstack, p.el)
			}
			stop := s.visit(ft.edges[p.edge].next)
			if p.el != 0 {
				s.mstack = s.mstack[:len(s.mstack)-1]
			}
			if stop {
				if !cached {
					s.pairs = s.pairs[:from]
				}
				return true
			}
		}
		if !cached {
			s.pairs = s.pairs[:from]
		}
	}
	return false
}

// pair is an edge to take and the array element it pins (0: none).
type pair struct {
	edge int32 // index in the fieldTrans's edges
	el   int32
}

// pairsFor appends to buf the edges of ft that vals[lo:hi] lead along,
// each with the element it pins: the value's innermost array element,
// lifted to the deepest array a later field of the edge can share.
func (s *scratch) pairsFor(ft *fieldTrans, vals []leaf, lo, hi int, buf []pair) []pair {
	s.egen++
	if s.egen == 0 {
		clear(s.edgeGen)
		s.egen = 1
	}
	gen := s.egen
	for k := lo; k < hi; k++ {
		v := &vals[k]
		s.hits = s.collect(ft, v, s.hits[:0])
		for _, h := range s.hits {
			ed := ft.edges[h]
			el := v.elem
			for el != 0 && s.elems[el].node.depth > ed.keep {
				el = s.elems[el].parent
			}
			if s.edgeGen[ed.id] == gen && s.edgeElem[ed.id] == el {
				continue
			}
			s.edgeGen[ed.id], s.edgeElem[ed.id] = gen, el
			buf = append(buf, pair{edge: h, el: el})
		}
	}
	return buf
}

// narrow returns the range of vals that may be used together with the
// array elements already chosen: where a chosen element's array lies on
// the field's path, only values inside that element qualify.
func (s *scratch) narrow(field int32, vals []leaf) (int, int) {
	fnode := s.c.fields[field]
	lo, hi := 0, len(vals)
	for _, m := range s.mstack {
		for a := m; a != 0; a = s.elems[a].parent {
			el := &s.elems[a]
			if !onPath(el.node, fnode) {
				continue
			}
			l, h := searchSeq(vals, el.start), searchSeq(vals, el.end)
			lo, hi = max(lo, l), min(hi, h)
			break
		}
	}
	return lo, hi
}

// onPath reports whether an is fn or one of its ancestors.
func onPath(an, fn *tnode) bool {
	for fn.depth > an.depth {
		fn = fn.parent
	}
	return fn == an
}

// searchSeq returns the index of the first value with seq >= q.
func searchSeq(vals []leaf, q int32) int {
	lo, hi := 0, len(vals)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if vals[m].seq < q {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// collect appends the indexes of the edges of ft whose condition v meets.
// An edge may appear more than once.
func (s *scratch) collect(ft *fieldTrans, v *leaf, hits []int32) []int32 {
	has := ft.has
	if has&hasAny != 0 {
		hits = append(hits, ft.any...)
	}
	switch v.kind {
	case kString:
		str := s.str(v)
		for i := range ft.small {
			if e := &ft.small[i]; e.s == bstr(str) {
				hits = append(hits, e.edges...)
				break
			}
		}
		if has&hasExact != 0 {
			hits = append(hits, ft.exact[bstr(str)]...)
		}
		if has&hasPrefix != 0 {
			hits = ft.prefix.prefixes(str, hits)
		}
		if has&hasSuffix != 0 {
			hits = ft.suffix.suffixes(str, hits)
		}
		if has&hasFold != 0 {
			s.fold = appendFold(s.fold[:0], str)
			if ft.foldExact != nil {
				hits = append(hits, ft.foldExact[bstr(s.fold)]...)
			}
			hits = ft.foldPrefix.prefixes(s.fold, hits)
			hits = ft.foldSuffix.suffixes(s.fold, hits)
		}
	case kNumber:
		if has&hasNums != 0 {
			hits = append(hits, ft.nums[v.num]...)
		}
	case kNull:
		hits = append(hits, ft.null...)
	case kTrue:
		hits = append(hits, ft.tru...)
	case kFalse:
		hits = append(hits, ft.fals...)
	}
	if has&hasLinear != 0 {
		for i := range ft.linear {
			lt := &ft.linear[i]
			if s.linearMatch(lt.t, v) {
				hits = append(hits, lt.edge)
			}
		}
	}
	return hits
}

func (l *lenMap) prefixes(str []byte, hits []int32) []int32 {
	for _, n := range l.lens {
		if n > len(str) {
			break
		}
		hits = append(hits, l.m[bstr(str[:n])]...)
	}
	return hits
}

func (l *lenMap) suffixes(str []byte, hits []int32) []int32 {
	for _, n := range l.lens {
		if n > len(str) {
			break
		}
		hits = append(hits, l.m[bstr(str[len(str)-n:])]...)
	}
	return hits
}

// bstr views b as a string without copying, for map lookups.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// linearMatch evaluates the tests that are not indexed.
func (s *scratch) linearMatch(t *test, v *leaf) bool {
	switch t.op {
	case opWildcard:
		return v.kind == kString && t.glob.match(s.str(v))
	case opNumeric:
		return v.kind == kNumber && t.inRange(v.num)
	case opCIDR:
		if v.kind != kString {
			return false
		}
		addr, ok := parseIP(s.str(v))
		return ok && t.cidr.Contains(addr)
	case opAnythingBut:
		switch t.not {
		case notStrings:
			if v.kind != kString {
				return true
			}
			str := bstr(s.str(v))
			return !slices.Contains(t.strs, str)
		case notNumbers:
			return v.kind != kNumber || !slices.Contains(t.nums, v.num)
		case notPrefix, notSuffix, notWildcard, notFold:
			if v.kind != kString {
				return true
			}
			str := s.str(v)
			if t.not == notFold {
				s.fold = appendFold(s.fold[:0], str)
				str = s.fold
			}
			for _, x := range t.strs {
				switch t.not {
				case notPrefix:
					if strings.HasPrefix(bstr(str), x) {
						return false
					}
				case notSuffix:
					if strings.HasSuffix(bstr(str), x) {
						return false
					}
				case notFold:
					if bstr(str) == x {
						return false
					}
				}
			}
			for _, g := range t.globs {
				if g.match(str) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// inRange reports whether n satisfies a numeric test. Values outside the
// supported range never match, as in aws/event-ruler.
func (t *test) inRange(n float64) bool {
	if n < -MaxNumeric || n > MaxNumeric {
		return false
	}
	if n < t.lo || (t.loOpen && n == t.lo) {
		return false
	}
	if n > t.hi || (t.hiOpen && n == t.hi) {
		return false
	}
	return true
}

// parseIP parses an event string as an IP address for cidr tests. Zoned
// IPv6 addresses are not addresses for this purpose.
func parseIP(b []byte) (netip.Addr, bool) {
	if len(b) == 0 || len(b) > 45 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(bstr(b))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}
