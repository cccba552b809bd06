-- The incident ledger, PostgreSQL dialect. Times are Unix microseconds, UTC.
-- JSON is stored as text, byte for byte as written.

CREATE TABLE incidents (
    id             TEXT PRIMARY KEY,
    dedup_key      TEXT NOT NULL,
    playbook       TEXT NOT NULL DEFAULT '',
    source         TEXT NOT NULL DEFAULT '',
    finding_type   TEXT NOT NULL DEFAULT '',
    title          TEXT NOT NULL DEFAULT '',
    severity       DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (severity >= 0 AND severity <= 10),
    severity_label TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    account        TEXT NOT NULL DEFAULT '',
    region         TEXT NOT NULL DEFAULT '',
    first_seen     BIGINT NOT NULL,
    last_seen      BIGINT NOT NULL,
    count          BIGINT NOT NULL,
    first_event    TEXT NOT NULL DEFAULT '',
    latest_event   TEXT NOT NULL DEFAULT '',
    updated        BIGINT NOT NULL
);
-- One unresolved incident per dedup key: repeats are counted on it.
CREATE UNIQUE INDEX incidents_dedup_unresolved ON incidents (dedup_key) WHERE status <> 'resolved';
CREATE INDEX incidents_last_seen ON incidents (last_seen, id);

CREATE TABLE incident_subjects (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (incident_id, kind, value)
);
CREATE INDEX incident_subjects_kind_value ON incident_subjects (kind, value);

CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    playbook    TEXT NOT NULL,
    created     BIGINT NOT NULL,
    UNIQUE (incident_id, playbook)
);

CREATE TABLE steps (
    run_id          TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id         TEXT NOT NULL,
    item            BIGINT NOT NULL,
    incident_id     TEXT NOT NULL,
    action          TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    attempt         BIGINT NOT NULL DEFAULT 0,
    idempotency_key TEXT NOT NULL,
    params          TEXT NOT NULL DEFAULT '',
    output          TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    created         BIGINT NOT NULL,
    updated         BIGINT NOT NULL,
    started         BIGINT NOT NULL DEFAULT 0,
    finished        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, step_id, item)
);

CREATE TABLE approvals (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    run_id       TEXT NOT NULL DEFAULT '',
    step_id      TEXT NOT NULL DEFAULT '',
    item         BIGINT NOT NULL DEFAULT 0,
    requested_by TEXT NOT NULL,
    what         TEXT NOT NULL,
    why          TEXT NOT NULL DEFAULT '',
    requested    BIGINT NOT NULL,
    expires      BIGINT NOT NULL,
    decision     TEXT NOT NULL DEFAULT '',
    decided_by   TEXT NOT NULL DEFAULT '',
    decided      BIGINT NOT NULL DEFAULT 0,
    channel      TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approvals_incident ON approvals (incident_id);
CREATE INDEX approvals_pending ON approvals (expires) WHERE decision = '';

CREATE TABLE guardrail_decisions (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    run_id      TEXT NOT NULL DEFAULT '',
    step_id     TEXT NOT NULL DEFAULT '',
    item        BIGINT NOT NULL DEFAULT 0,
    rule        TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    at          BIGINT NOT NULL
);
CREATE INDEX guardrail_decisions_incident ON guardrail_decisions (incident_id);

CREATE TABLE budgets (
    budget       TEXT NOT NULL,
    action_kind  TEXT NOT NULL,
    account      TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    used         BIGINT NOT NULL,
    limit_units  BIGINT NOT NULL,
    updated      BIGINT NOT NULL,
    PRIMARY KEY (budget, action_kind, account, window_start)
);

CREATE TABLE evidence (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    run_id      TEXT NOT NULL DEFAULT '',
    step_id     TEXT NOT NULL DEFAULT '',
    item        BIGINT NOT NULL DEFAULT 0,
    kind        TEXT NOT NULL,
    uri         TEXT NOT NULL DEFAULT '',
    inline      TEXT NOT NULL DEFAULT '',
    sha256      TEXT NOT NULL,
    created     BIGINT NOT NULL
);
CREATE INDEX evidence_incident ON evidence (incident_id);

-- The audit log: append-only, hash-chained. hash is the SHA-256 of
-- prev_hash, a newline and the entry's canonical JSON (see audit.go).
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    action      TEXT NOT NULL,
    incident_id TEXT NOT NULL DEFAULT '',
    payload     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_incident ON audit_log (incident_id);

CREATE FUNCTION ledger_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION ledger_audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_audit_log_append_only();

-- The head of the chain: the last entry's seq and hash. Appends update it,
-- which serialises them.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
