-- The deliverables of an engagement (① to ⑦, mamori_domain::deliverable):
-- where each stands in the review, every submitted version frozen as JSON
-- (a later change to the ledger or the checklist never changes what was
-- submitted), and every review step with who took it and when.
-- Instants are epoch ms; accounts are ids.

-- kind: checklist-executive … structure; state: draft, submitted,
-- changes-requested, approved. current_version: the latest frozen version
-- (NULL until the first submission); submitted_by: who submitted it.
CREATE TABLE deliverables (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    kind {text} NOT NULL,
    state {text} NOT NULL,
    current_version {int},
    submitted_by {int} REFERENCES accounts (id),
    updated_at {int} NOT NULL,
    UNIQUE (engagement_id, kind)
);

CREATE TABLE deliverable_versions (
    id {id},
    deliverable_id {int} NOT NULL REFERENCES deliverables (id),
    version {int} NOT NULL,
    content {text} NOT NULL,
    submitted_at {int} NOT NULL,
    submitted_by {int} REFERENCES accounts (id),
    UNIQUE (deliverable_id, version)
);

-- action: submit, request-changes, approve, reopen.
CREATE TABLE deliverable_reviews (
    id {id},
    deliverable_id {int} NOT NULL REFERENCES deliverables (id),
    version {int} NOT NULL,
    action {text} NOT NULL,
    actor_id {int} REFERENCES accounts (id),
    at {int} NOT NULL,
    note {text} NOT NULL
);
CREATE INDEX deliverable_reviews_deliverable ON deliverable_reviews (deliverable_id, id);
