package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// genesisHash is the prev_hash of the first audit entry.
const genesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// auditEntry is one row of the audit log.
type auditEntry struct {
	Seq        int64
	At         int64 // Unix microseconds
	Action     string
	IncidentID string
	Payload    string // JSON, stored verbatim
	PrevHash   string
	Hash       string
}

// canonical is the entry's content as hashed: a JSON object with its
// fields in a fixed order and the payload as stored.
func (e auditEntry) canonical() []byte {
	var b strings.Builder
	b.WriteString(`{"seq":`)
	b.WriteString(strconv.FormatInt(e.Seq, 10))
	b.WriteString(`,"at":`)
	b.WriteString(strconv.FormatInt(e.At, 10))
	b.WriteString(`,"action":`)
	b.Write(jsonString(e.Action))
	b.WriteString(`,"incident_id":`)
	b.Write(jsonString(e.IncidentID))
	b.WriteString(`,"payload":`)
	b.WriteString(e.Payload)
	b.WriteString(`}`)
	return []byte(b.String())
}

// chainHash is hex(SHA-256(prevHash + "\n" + canonical)).
func chainHash(prevHash string, canonical []byte) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write([]byte{'\n'})
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// audit appends an entry describing a change made in the same
// transaction. Appends are serialised by the lock on audit_head the
// transaction took when it began (PostgreSQL) or by SQLite's single
// writer.
func (t *tx) audit(ctx context.Context, action, incidentID string, payload map[string]any) error {
	body, err := json.Marshal(payload) // map keys come out sorted
	if err != nil {
		return fmt.Errorf("audit %s: encode payload: %w", action, err)
	}
	var head auditEntry
	if err := t.q.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&head.Seq, &head.Hash); err != nil {
		return fmt.Errorf("audit %s: read chain head: %w", action, err)
	}
	e := auditEntry{
		Seq:        head.Seq + 1,
		At:         micros(t.s.now()),
		Action:     action,
		IncidentID: incidentID,
		Payload:    string(body),
		PrevHash:   head.Hash,
	}
	e.Hash = chainHash(e.PrevHash, e.canonical())
	if _, err := t.q.exec(ctx, `INSERT INTO audit_log (seq, at, action, incident_id, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At, e.Action, e.IncidentID, e.Payload, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("audit %s: append entry %d: %w", action, e.Seq, err)
	}
	n, err := t.q.exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ?`, e.Seq, e.Hash, head.Seq)
	if err != nil {
		return fmt.Errorf("audit %s: move chain head: %w", action, err)
	}
	if n != 1 {
		return fmt.Errorf("audit %s: chain head moved under entry %d: %w", action, e.Seq, ErrConflict)
	}
	return nil
}

// verify walks the audit log in order and returns the first broken link.
func verify(ctx context.Context, q querier) (Verification, error) {
	var v Verification
	rs, err := q.query(ctx, `SELECT seq, at, action, incident_id, payload, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		return v, fmt.Errorf("verify: read audit log: %w", err)
	}
	defer rs.Close()
	prev := auditEntry{Hash: genesisHash}
	for rs.Next() {
		var e auditEntry
		if err := rs.Scan(&e.Seq, &e.At, &e.Action, &e.IncidentID, &e.Payload, &e.PrevHash, &e.Hash); err != nil {
			return v, fmt.Errorf("verify: read audit entry after %d: %w", prev.Seq, err)
		}
		v.Entries++
		if v.Broken != nil {
			continue
		}
		switch want := prev.Seq + 1; {
		case e.Seq != want:
			v.Broken = &BrokenLink{Seq: e.Seq, Field: "seq", Expected: strconv.FormatInt(want, 10), Found: strconv.FormatInt(e.Seq, 10)}
		case e.PrevHash != prev.Hash:
			v.Broken = &BrokenLink{Seq: e.Seq, Field: "prev_hash", Expected: prev.Hash, Found: e.PrevHash}
		default:
			if want := chainHash(e.PrevHash, e.canonical()); e.Hash != want {
				v.Broken = &BrokenLink{Seq: e.Seq, Field: "hash", Expected: want, Found: e.Hash}
			}
		}
		prev = e
	}
	if err := rs.Err(); err != nil {
		return v, fmt.Errorf("verify: read audit log: %w", err)
	}
	if v.Broken != nil {
		return v, nil
	}
	var head auditEntry
	if err := q.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&head.Seq, &head.Hash); err != nil {
		return v, fmt.Errorf("verify: read chain head: %w", err)
	}
	if head.Seq != prev.Seq || head.Hash != prev.Hash {
		// Entries were removed from the end, or the head was moved.
		v.Broken = &BrokenLink{
			Seq:      head.Seq,
			Field:    "head",
			Expected: fmt.Sprintf("%d %s", head.Seq, head.Hash),
			Found:    fmt.Sprintf("%d %s", prev.Seq, prev.Hash),
		}
		return v, nil
	}
	if v.Entries > 0 {
		v.Head = prev.Hash
	}
	return v, nil
}
