-- Every step of a match's triage (mamori_domain::triage): from and to
-- state, the reason or note, who and when.
CREATE TABLE advisory_match_steps (
    id {id},
    match_id {int} NOT NULL REFERENCES advisory_matches (id),
    from_state {text} NOT NULL,
    to_state {text} NOT NULL,
    note {text} NOT NULL,
    actor_id {int} REFERENCES accounts (id),
    at {int} NOT NULL
);
CREATE INDEX advisory_match_steps_match ON advisory_match_steps (match_id, id);
