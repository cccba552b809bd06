package sandbox

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
)

// IDs generates AWS-shaped identifiers. With a non-zero seed the sequence is
// deterministic (same seed, same calls, same ids); otherwise it is random.
// It is safe for concurrent use. Reach it with Sandbox.IDs.
type IDs struct {
	mu  sync.Mutex
	rng *mrand.Rand
}

// NewIDs returns a generator; seed 0 means random.
func NewIDs(seed uint64) *IDs {
	if seed == 0 {
		var b [16]byte
		_, _ = rand.Read(b[:])
		return &IDs{rng: mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])))}
	}
	return &IDs{rng: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	hexDigits  = "0123456789abcdef"
	secretSet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func (g *IDs) pick(set string, n int) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var b strings.Builder
	b.Grow(n)
	for range n {
		b.WriteByte(set[g.rng.IntN(len(set))])
	}
	return b.String()
}

// Hex returns prefix followed by n lowercase hex digits: Hex("i-", 17).
func (g *IDs) Hex(prefix string, n int) string { return prefix + g.pick(hexDigits, n) }

// Upper returns prefix followed by n characters of [A-Z2-7], the alphabet of
// IAM unique ids and access key ids: Upper("AIDA", 17).
func (g *IDs) Upper(prefix string, n int) string { return prefix + g.pick(upperAlnum, n) }

// AccessKeyID returns a long-term access key id, AKIA + 16.
func (g *IDs) AccessKeyID() string { return g.Upper("AKIA", 16) }

// TempAccessKeyID returns a temporary access key id, ASIA + 16.
func (g *IDs) TempAccessKeyID() string { return g.Upper("ASIA", 16) }

// Secret returns a 40-character secret access key.
func (g *IDs) Secret() string { return g.pick(secretSet, 40) }

// Token returns an opaque session token.
func (g *IDs) Token() string { return "FwoGZXIvYXdzE" + g.pick(secretSet, 200) }

// UUID returns a random (version 4) UUID, as CloudTrail event ids and request
// ids are.
func (g *IDs) UUID() string {
	g.mu.Lock()
	hi, lo := g.rng.Uint64(), g.rng.Uint64()
	g.mu.Unlock()
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, (hi>>16)&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// Digits returns n decimal digits (account ids, MFA codes).
func (g *IDs) Digits(n int) string { return g.pick("0123456789", n) }
