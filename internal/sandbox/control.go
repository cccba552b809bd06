package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// The control API is served under ControlPrefix, unsigned and unrecorded:
//
//	GET  /_sandbox/health               {"ok":true}
//	GET  /_sandbox/outbox               emails sent through SES (and SNS email)
//	GET  /_sandbox/trail                CloudTrail records, oldest first
//	GET  /_sandbox/events               events put on the bus
//	POST /_sandbox/events               publish a BusEvent (EventBridge JSON)
//	POST /_sandbox/findings             publish a Finding ({"kind":"health-exposed-key"})
//	GET  /_sandbox/faults               the active faults
//	PUT  /_sandbox/faults               {"seed":1,"faults":[{"service":"iam","throttle_ratio":0.5}]}
//	GET  /_sandbox/keys                 issued access keys (ids, never secrets)
//	GET  /_sandbox/scenarios            the scenarios
//	POST /_sandbox/scenarios/{name}     run a scenario, returns its ScenarioResult
//	POST /_sandbox/reset                reseed the world
//
// Errors are {"error":"..."} with a 4xx or 5xx status.

func (sb *Sandbox) newControlMux() http.Handler {
	mux := http.NewServeMux()
	p := ControlPrefix
	mux.HandleFunc("GET "+p+"health", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, map[string]bool{"ok": true}) })
	mux.HandleFunc("GET "+p+"outbox", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, nonNil(sb.Outbox())) })
	mux.HandleFunc("GET "+p+"trail", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, nonNil(sb.Trail())) })
	mux.HandleFunc("GET "+p+"events", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, nonNil(sb.Events())) })
	mux.HandleFunc("GET "+p+"keys", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, nonNil(sb.Keys())) })
	mux.HandleFunc("POST "+p+"events", func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Version string `json:"version"`
			BusEvent
		}
		if !readJSON(w, r, &ev) {
			return
		}
		if err := sb.Publish(r.Context(), ev.BusEvent); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	mux.HandleFunc("POST "+p+"findings", func(w http.ResponseWriter, r *http.Request) {
		var f Finding
		if !readJSON(w, r, &f) {
			return
		}
		ev, err := sb.PublishFinding(r.Context(), f)
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, ev)
	})
	mux.HandleFunc("GET "+p+"faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"faults": nonNil(sb.Faults())})
	})
	mux.HandleFunc("PUT "+p+"faults", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Seed   uint64  `json:"seed"`
			Faults []Fault `json:"faults"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		if err := sb.SetFaults(in.Seed, in.Faults...); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"faults": nonNil(sb.Faults())})
	})
	mux.HandleFunc("GET "+p+"scenarios", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, Scenarios()) })
	mux.HandleFunc("POST "+p+"scenarios/{name}", func(w http.ResponseWriter, r *http.Request) {
		if sb.Endpoint() == "" {
			sb.SetEndpoint("http://" + r.Host)
		}
		res, err := sb.RunScenario(r.Context(), r.PathValue("name"))
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, errUnknownScenario) {
				status = http.StatusNotFound
			}
			writeError(w, status, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
	mux.HandleFunc("POST "+p+"reset", func(w http.ResponseWriter, r *http.Request) {
		if err := sb.Reset(); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no control endpoint %s %s", r.Method, r.URL.Path))
	})
	return mux
}

func (sb *Sandbox) serveControl(w http.ResponseWriter, r *http.Request) { sb.control.ServeHTTP(w, r) }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		dec := json.NewDecoder(bytesReader(body))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("request body: %v", err))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
