-- Returning and destroying a hospital's information on its request
-- (mamori_domain::data_return): one row per archive handed over and per
-- erasure. `digest` is the archive contents' digest; an erasure names the
-- digest of the archive it follows and is refused if the data changed since.
-- `summary` is JSON: rows per table deleted and kept, files deleted.
CREATE TABLE hospital_data_returns (
    id {id},
    hospital_id {int} NOT NULL REFERENCES organisations (id),
    action {text} NOT NULL,
    digest {text} NOT NULL,
    summary {text} NOT NULL,
    reason {text} NOT NULL DEFAULT '',
    at {int} NOT NULL,
    by_account {int} REFERENCES accounts (id)
);
CREATE INDEX hospital_data_returns_hospital ON hospital_data_returns (hospital_id);
