-- Foundation: organisations, accounts, sessions, tokens, engagements,
-- the facility profile, and the hash-chained audit log.
-- Tokens in braces are replaced per database: {id} {int} {text} (see migrate.rs).

CREATE TABLE organisations (
    id {id},
    kind {text} NOT NULL,
    name {text} NOT NULL UNIQUE,
    prefecture {int},
    bed_count {int},
    founder_type {text},
    recruitment_route {text},
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL
);
CREATE INDEX organisations_kind ON organisations (kind);

CREATE TABLE accounts (
    id {id},
    org_id {int} NOT NULL REFERENCES organisations (id),
    email {text} NOT NULL UNIQUE,
    display_name {text} NOT NULL,
    role {text} NOT NULL,
    password_hash {text} NOT NULL,
    language {text} NOT NULL DEFAULT 'ja',
    totp_secret {text},
    totp_enabled {int} NOT NULL DEFAULT 0,
    totp_last_step {int},
    failed_logins {int} NOT NULL DEFAULT 0,
    locked_until {int},
    disabled {int} NOT NULL DEFAULT 0,
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL
);
CREATE INDEX accounts_org ON accounts (org_id);

CREATE TABLE recovery_codes (
    id {id},
    account_id {int} NOT NULL REFERENCES accounts (id),
    code_hash {text} NOT NULL,
    used_at {int}
);
CREATE INDEX recovery_codes_account ON recovery_codes (account_id);

CREATE TABLE sessions (
    id_hash {text} PRIMARY KEY,
    account_id {int} NOT NULL REFERENCES accounts (id),
    csrf_token {text} NOT NULL,
    second_factor_pending {int} NOT NULL DEFAULT 0,
    created_at {int} NOT NULL,
    last_seen_at {int} NOT NULL,
    expires_at {int} NOT NULL,
    client_addr {text},
    user_agent {text}
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE api_tokens (
    id {id},
    account_id {int} NOT NULL REFERENCES accounts (id),
    name {text} NOT NULL,
    token_hash {text} NOT NULL UNIQUE,
    prefix {text} NOT NULL,
    created_at {int} NOT NULL,
    last_used_at {int},
    revoked_at {int}
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

CREATE TABLE login_throttle (
    client_key {text} PRIMARY KEY,
    window_start {int} NOT NULL,
    attempts {int} NOT NULL
);

CREATE TABLE engagements (
    id {id},
    hospital_id {int} NOT NULL REFERENCES organisations (id),
    company_id {int} NOT NULL REFERENCES organisations (id),
    state {text} NOT NULL,
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    UNIQUE (hospital_id, company_id)
);
CREATE INDEX engagements_company ON engagements (company_id);

CREATE TABLE facility_profiles (
    hospital_id {int} PRIMARY KEY REFERENCES organisations (id),
    it_staff_count {int},
    it_staff_skills {text} NOT NULL DEFAULT '',
    ehr_vendor {text} NOT NULL DEFAULT '',
    maintenance_outsourcing {text} NOT NULL DEFAULT '',
    notes {text} NOT NULL DEFAULT '',
    updated_at {int} NOT NULL,
    updated_by {int} REFERENCES accounts (id)
);

CREATE TABLE audit_head (
    id {int} PRIMARY KEY,
    last_seq {int} NOT NULL,
    last_hash {text} NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_events (
    seq {int} PRIMARY KEY,
    occurred_at {int} NOT NULL,
    actor_account {int},
    actor_label {text} NOT NULL,
    actor_org {int},
    action {text} NOT NULL,
    target {text} NOT NULL,
    hospital {int},
    client_addr {text},
    detail {text} NOT NULL,
    prev_hash {text} NOT NULL,
    hash {text} NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (occurred_at);
CREATE INDEX audit_events_actor ON audit_events (actor_account);
CREATE INDEX audit_events_hospital ON audit_events (hospital);
CREATE INDEX audit_events_action ON audit_events (action);
