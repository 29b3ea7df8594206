-- The response to a match (issue 8 item 4). review: not-needed (found by
-- CPE or with a version: the hospital is told), pending (vendor/product
-- only: waits for a secretariat analyst), confirmed, dismissed (the
-- hospital is never told). due_on: ISO day the hospital should have
-- answered by. notice_id: the notice that told the hospital.
-- escalated_at: when an untouched or overdue case went to the secretariat.
ALTER TABLE advisory_matches ADD COLUMN review {text} NOT NULL DEFAULT 'not-needed';
ALTER TABLE advisory_matches ADD COLUMN review_note {text} NOT NULL DEFAULT '';
ALTER TABLE advisory_matches ADD COLUMN reviewed_by {int};
ALTER TABLE advisory_matches ADD COLUMN reviewed_at {int};
ALTER TABLE advisory_matches ADD COLUMN due_on {text};
ALTER TABLE advisory_matches ADD COLUMN notice_id {int};
ALTER TABLE advisory_matches ADD COLUMN escalated_at {int};
ALTER TABLE advisory_match_steps ADD COLUMN due_on {text};

-- A notice as sent (mamori_advisories::notice::Notice, kept whole as
-- JSON): numbered per hospital, never changed.
CREATE TABLE advisory_notices (
    id {id},
    hospital_id {int} NOT NULL REFERENCES organisations (id),
    number {int} NOT NULL,
    content {text} NOT NULL,
    created_at {int} NOT NULL,
    UNIQUE (hospital_id, number)
);
