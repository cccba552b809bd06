package sandbox

import "net/http"

func (sb *Sandbox) serve(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not yet", http.StatusNotImplemented)
}
