-- Labour hours of an engagement (mamori_domain::labour; seed 資料6): the
-- plan per sheet row, the hours booked per person, day and row, the weekly
-- reports the supervisor acknowledges, and each company's hourly rate in a
-- programme. Hours are hundredths; days are ISO dates; instants epoch ms.

-- One row per sheet row once the plan was edited; without rows the
-- engagement plans the default 200 hours.
CREATE TABLE labour_plans (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    row_number {int} NOT NULL,
    hundredths {int} NOT NULL,
    updated_at {int} NOT NULL,
    updated_by {int} REFERENCES accounts (id),
    UNIQUE (engagement_id, row_number)
);

-- Removed entries are kept with who removed them and when.
CREATE TABLE labour_entries (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    row_number {int} NOT NULL,
    person {text} NOT NULL,
    worked_on {text} NOT NULL,
    week_start {text} NOT NULL,
    hundredths {int} NOT NULL,
    note {text} NOT NULL,
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id),
    removed_at {int},
    removed_by {int} REFERENCES accounts (id)
);
CREATE INDEX labour_entries_engagement ON labour_entries (engagement_id, week_start);

-- state: open, submitted, acknowledged (locked).
CREATE TABLE labour_weeks (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    week_start {text} NOT NULL,
    state {text} NOT NULL,
    updated_at {int} NOT NULL,
    UNIQUE (engagement_id, week_start)
);

-- step: submit, acknowledge, return.
CREATE TABLE labour_week_steps (
    id {id},
    week_id {int} NOT NULL REFERENCES labour_weeks (id),
    step {text} NOT NULL,
    actor_id {int} REFERENCES accounts (id),
    at {int} NOT NULL,
    note {text} NOT NULL
);

CREATE TABLE labour_rates (
    id {id},
    programme_id {int} NOT NULL REFERENCES programmes (id),
    company_id {int} NOT NULL REFERENCES organisations (id),
    rate_yen {int} NOT NULL,
    updated_at {int} NOT NULL,
    updated_by {int} REFERENCES accounts (id),
    UNIQUE (programme_id, company_id)
);
