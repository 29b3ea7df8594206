-- The hospital ledger (資産管理台帳): each record kept whole as JSON
-- (mamori_domain::ledger: Asset, Segment, …) under the key the hospital
-- chose, with a version per change, soft deletion (nothing is ever lost)
-- and the walk-through confirmation; every change in ledger_history with
-- who, when, before and after. The shared device catalogue the assets
-- point to is the secretariat's, kept the same way.
-- Instants are epoch ms; accounts are ids.

CREATE TABLE ledger_records (
    id {id},
    hospital_id {int} NOT NULL REFERENCES organisations (id),
    kind {text} NOT NULL,
    record_key {text} NOT NULL,
    body {text} NOT NULL,
    -- An asset's catalogue model (NULL otherwise): which models are in use.
    model_ref {text},
    version {int} NOT NULL,
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id),
    updated_at {int} NOT NULL,
    updated_by {int} REFERENCES accounts (id),
    deleted_at {int},
    confirmed_at {int},
    confirmed_by {int} REFERENCES accounts (id),
    UNIQUE (hospital_id, kind, record_key)
);
CREATE INDEX ledger_records_model ON ledger_records (model_ref);

-- One row per hospital whose ledger was ever written; every write bumps it
-- first, which serialises the writers of one ledger on PostgreSQL (row
-- lock) as SQLite's write lock already does, so references are checked on
-- the ledger the write really changes.
CREATE TABLE ledger_heads (
    hospital_id {int} PRIMARY KEY REFERENCES organisations (id),
    revision {int} NOT NULL,
    updated_at {int} NOT NULL
);

-- action: created, updated, deleted, restored, confirmed;
-- source: form, api, import, walk-through.
CREATE TABLE ledger_history (
    id {id},
    record_id {int} NOT NULL REFERENCES ledger_records (id),
    hospital_id {int} NOT NULL REFERENCES organisations (id),
    kind {text} NOT NULL,
    record_key {text} NOT NULL,
    version {int} NOT NULL,
    action {text} NOT NULL,
    before_body {text},
    after_body {text},
    source {text} NOT NULL,
    actor_id {int} REFERENCES accounts (id),
    changed_at {int} NOT NULL
);
CREATE INDEX ledger_history_hospital ON ledger_history (hospital_id, changed_at);
CREATE INDEX ledger_history_record ON ledger_history (record_id);

-- The CPE names of live assets, for matching advisories by vendor and product.
CREATE TABLE ledger_cpes (
    record_id {int} NOT NULL REFERENCES ledger_records (id),
    hospital_id {int} NOT NULL REFERENCES organisations (id),
    cpe {text} NOT NULL,
    vendor {text} NOT NULL,
    product {text} NOT NULL,
    PRIMARY KEY (record_id, cpe)
);
CREATE INDEX ledger_cpes_vendor_product ON ledger_cpes (vendor, product);
CREATE INDEX ledger_cpes_hospital ON ledger_cpes (hospital_id);

CREATE TABLE device_models (
    id {id},
    model_key {text} NOT NULL UNIQUE,
    body {text} NOT NULL,
    version {int} NOT NULL,
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id),
    updated_at {int} NOT NULL,
    updated_by {int} REFERENCES accounts (id),
    deleted_at {int}
);

CREATE TABLE device_model_history (
    id {id},
    model_id {int} NOT NULL REFERENCES device_models (id),
    model_key {text} NOT NULL,
    version {int} NOT NULL,
    action {text} NOT NULL,
    before_body {text},
    after_body {text},
    actor_id {int} REFERENCES accounts (id),
    changed_at {int} NOT NULL
);
CREATE INDEX device_model_history_model ON device_model_history (model_id);

-- Photos taken on the walk-through, of one ledger record.
CREATE TABLE ledger_photos (
    id {id},
    hospital_id {int} NOT NULL REFERENCES organisations (id),
    record_id {int} NOT NULL REFERENCES ledger_records (id),
    file_id {int} NOT NULL REFERENCES files (id),
    caption {text} NOT NULL DEFAULT '',
    added_at {int} NOT NULL,
    added_by {int} REFERENCES accounts (id)
);
CREATE INDEX ledger_photos_record ON ledger_photos (record_id);

-- Files uploaded for a ledger import, kept so an import can be traced back
-- to the file it came from (and previewed, then imported, without sending
-- the file twice).
CREATE TABLE ledger_uploads (
    id {id},
    hospital_id {int} NOT NULL REFERENCES organisations (id),
    file_id {int} NOT NULL REFERENCES files (id),
    added_at {int} NOT NULL,
    added_by {int} REFERENCES accounts (id)
);
CREATE INDEX ledger_uploads_hospital ON ledger_uploads (hospital_id);
