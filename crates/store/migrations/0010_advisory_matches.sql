-- What an advisory affects: one row per advisory and asset of a hospital's
-- ledger, with how it was found (method, confidence) and where the case
-- stands. state: unconfirmed (未確認), affected (影響あり), not-affected
-- (影響なし), in-progress (対応中), resolved (対応済), withdrawn (a later
-- re-match no longer finds it; kept so nothing is lost).
CREATE TABLE advisory_matches (
    id {id},
    advisory_id {int} NOT NULL REFERENCES advisories (id),
    hospital_id {int} NOT NULL REFERENCES organisations (id),
    asset_key {text} NOT NULL,
    method {text} NOT NULL,
    confidence {text} NOT NULL,
    criterion {text} NOT NULL,
    note {text} NOT NULL,
    state {text} NOT NULL,
    found_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    UNIQUE (advisory_id, hospital_id, asset_key)
);
CREATE INDEX advisory_matches_hospital ON advisory_matches (hospital_id, state);
