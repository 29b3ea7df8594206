-- Findings (指摘事項) of an engagement and the report packages released
-- from its approved deliverables (mamori_domain::deliverable's Finding and
-- ReportContent). Instants are epoch ms; accounts are ids.

-- number: 1, 2, … within the engagement; affected: JSON list of
-- kind-and-key pairs; status: proposed, accepted, rejected.
CREATE TABLE findings (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    number {int} NOT NULL,
    severity {text} NOT NULL,
    title {text} NOT NULL,
    detail {text} NOT NULL,
    affected {text} NOT NULL,
    recommendation {text} NOT NULL,
    status {text} NOT NULL,
    created_by {int} REFERENCES accounts (id),
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    UNIQUE (engagement_id, number)
);

-- Every step on a finding with the finding as it was after the step
-- (JSON), so nothing an edit replaced is lost. step: propose, edit,
-- accept, reject, reopen.
CREATE TABLE finding_steps (
    id {id},
    finding_id {int} NOT NULL REFERENCES findings (id),
    step {text} NOT NULL,
    actor_id {int} REFERENCES accounts (id),
    at {int} NOT NULL,
    note {text} NOT NULL,
    finding {text} NOT NULL
);
CREATE INDEX finding_steps_finding ON finding_steps (finding_id, id);

-- A release is immutable once written: content is the frozen
-- ReportContent (JSON); versions the approved version of ① … ⑦ it was
-- built from (JSON list of seven numbers). Acceptance (検収) and delivery
-- are recorded on it as the engagement takes those steps.
CREATE TABLE report_releases (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    number {int} NOT NULL,
    content {text} NOT NULL,
    versions {text} NOT NULL,
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id),
    accepted_at {int},
    accepted_by {int} REFERENCES accounts (id),
    delivered_at {int},
    delivered_by {int} REFERENCES accounts (id),
    UNIQUE (engagement_id, number)
);

-- The rendered files of a release. language: ja, en; format: pdf, xlsx,
-- network.drawio, structure.drawio.
CREATE TABLE report_files (
    id {id},
    release_id {int} NOT NULL REFERENCES report_releases (id),
    language {text} NOT NULL,
    format {text} NOT NULL,
    file_id {int} NOT NULL REFERENCES files (id),
    UNIQUE (release_id, language, format)
);
