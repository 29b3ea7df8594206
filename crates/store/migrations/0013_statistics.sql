-- Statistics releases (mamori_domain::aggregates, ::statistics): the
-- protected tables kept whole as JSON with each suppressed cell's reason
-- (for the releaser; readers get them without). Numbered; drafted by one
-- member of the secretariat, published by another, then never changed.
-- programme_id NULL: every programme. audience: ministry or public.
-- state: draft, published, discarded.
CREATE TABLE statistics_releases (
    id {id},
    number {int} NOT NULL UNIQUE,
    programme_id {int} REFERENCES programmes (id),
    audience {text} NOT NULL,
    title {text} NOT NULL,
    k {int} NOT NULL,
    hospitals {int} NOT NULL,
    content {text} NOT NULL,
    state {text} NOT NULL,
    drafted_by {int} NOT NULL REFERENCES accounts (id),
    drafted_at {int} NOT NULL,
    decided_by {int} REFERENCES accounts (id),
    decided_at {int}
);
