-- The programme and engagement lifecycle: programmes with milestones, a
-- document library and kick-off meetings; the companies and hospitals of a
-- programme; engagements with their transitions, pledges, NDAs, estimates,
-- orders and payments; letter templates; notifications and the mail outbox.
-- Lines between "--@sqlite" / "--@postgres" and "--@both" run on one backend only.
-- Dates without a time of day are ISO text (YYYY-MM-DD), instants epoch ms.

-- Letters name each party with its address and representative (資料3, 資料5).
ALTER TABLE organisations ADD COLUMN address {text} NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN representative {text} NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN contact_email {text} NOT NULL DEFAULT '';

CREATE TABLE files (
    id {id},
    name {text} NOT NULL,
    content_type {text} NOT NULL,
    size_bytes {int} NOT NULL,
    sha256 {text} NOT NULL,
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id)
);
CREATE TABLE file_blobs (
    file_id {int} PRIMARY KEY REFERENCES files (id),
    data {blob} NOT NULL
);

CREATE TABLE programmes (
    id {id},
    name {text} NOT NULL UNIQUE,
    fiscal_year {int} NOT NULL,
    research_lead {text} NOT NULL DEFAULT '',
    labour_cap_yen {int} NOT NULL,
    honorarium_rate_yen {int} NOT NULL,
    checklist_versions {text} NOT NULL DEFAULT '',
    notes {text} NOT NULL DEFAULT '',
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL
);
CREATE TABLE programme_milestones (
    programme_id {int} NOT NULL REFERENCES programmes (id),
    kind {text} NOT NULL,
    due_on {text} NOT NULL,
    PRIMARY KEY (programme_id, kind)
);
CREATE TABLE programme_documents (
    id {id},
    programme_id {int} NOT NULL REFERENCES programmes (id),
    title {text} NOT NULL,
    version {text} NOT NULL,
    issued_on {text},
    file_id {int} REFERENCES files (id),
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id)
);
CREATE TABLE kickoff_meetings (
    id {id},
    programme_id {int} NOT NULL REFERENCES programmes (id),
    company_id {int} REFERENCES organisations (id),
    held_on {text} NOT NULL,
    attendees {text} NOT NULL,
    notes {text} NOT NULL DEFAULT '',
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id)
);
CREATE TABLE programme_companies (
    programme_id {int} NOT NULL REFERENCES programmes (id),
    company_id {int} NOT NULL REFERENCES organisations (id),
    invited_on {text} NOT NULL,
    meeting_on {text},
    forms_handed_over_on {text},
    contact_name {text} NOT NULL DEFAULT '',
    contact_email {text} NOT NULL DEFAULT '',
    contact_phone {text} NOT NULL DEFAULT '',
    updated_at {int} NOT NULL,
    PRIMARY KEY (programme_id, company_id)
);
CREATE TABLE programme_surveyors (
    programme_id {int} NOT NULL REFERENCES programmes (id),
    company_id {int} NOT NULL REFERENCES organisations (id),
    account_id {int} NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (programme_id, account_id)
);

-- Engagements existing before programmes belong to one programme made for them.
INSERT INTO programmes (name, fiscal_year, labour_cap_yen, honorarium_rate_yen, created_at, updated_at)
SELECT '移行前の調査 (before programmes)', 2022, 3000000, 5000, 0, 0
WHERE EXISTS (SELECT 1 FROM engagements);

--@sqlite
CREATE TABLE engagements_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    programme_id INTEGER NOT NULL REFERENCES programmes (id),
    hospital_id INTEGER NOT NULL REFERENCES organisations (id),
    company_id INTEGER NOT NULL REFERENCES organisations (id),
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (programme_id, hospital_id, company_id)
);
INSERT INTO engagements_v2 (id, programme_id, hospital_id, company_id, state, created_at, updated_at)
SELECT id, (SELECT MIN(id) FROM programmes), hospital_id, company_id, state, created_at, updated_at FROM engagements;
DROP TABLE engagements;
ALTER TABLE engagements_v2 RENAME TO engagements;
CREATE INDEX engagements_company ON engagements (company_id);
CREATE INDEX engagements_hospital ON engagements (hospital_id);
--@postgres
ALTER TABLE engagements ADD COLUMN programme_id BIGINT REFERENCES programmes (id);
UPDATE engagements SET programme_id = (SELECT MIN(id) FROM programmes);
ALTER TABLE engagements ALTER COLUMN programme_id SET NOT NULL;
ALTER TABLE engagements DROP CONSTRAINT engagements_hospital_id_company_id_key;
ALTER TABLE engagements ADD CONSTRAINT engagements_programme_hospital_company UNIQUE (programme_id, hospital_id, company_id);
CREATE INDEX engagements_hospital ON engagements (hospital_id);
--@both

CREATE INDEX engagements_programme ON engagements (programme_id);
ALTER TABLE engagements ADD COLUMN source {text} NOT NULL DEFAULT 'research-network';
ALTER TABLE engagements ADD COLUMN source_detail {text} NOT NULL DEFAULT '';
ALTER TABLE engagements ADD COLUMN director_name {text} NOT NULL DEFAULT '';
ALTER TABLE engagements ADD COLUMN contact_department {text} NOT NULL DEFAULT '';
ALTER TABLE engagements ADD COLUMN contact_title {text} NOT NULL DEFAULT '';
ALTER TABLE engagements ADD COLUMN contact_name {text} NOT NULL DEFAULT '';
ALTER TABLE engagements ADD COLUMN contact_email {text} NOT NULL DEFAULT '';
ALTER TABLE engagements ADD COLUMN proposed_company {text} NOT NULL DEFAULT '';
ALTER TABLE engagements ADD COLUMN company_confirmed_on {text};
ALTER TABLE engagements ADD COLUMN intent_confirmed_on {text};
ALTER TABLE engagements ADD COLUMN contacted_on {text};

CREATE TABLE engagement_transitions (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    from_state {text} NOT NULL,
    to_state {text} NOT NULL,
    effective_on {text} NOT NULL,
    note {text} NOT NULL DEFAULT '',
    account_id {int} REFERENCES accounts (id),
    created_at {int} NOT NULL
);
CREATE INDEX engagement_transitions_engagement ON engagement_transitions (engagement_id);

CREATE TABLE agreements (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    kind {text} NOT NULL,
    issued_on {text} NOT NULL,
    signed_on {text},
    valid_from {text} NOT NULL,
    valid_until {text} NOT NULL,
    revoked_on {text},
    revoked_reason {text} NOT NULL DEFAULT '',
    scan_file_id {int} REFERENCES files (id),
    document_file_id {int} REFERENCES files (id),
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL
);
CREATE INDEX agreements_engagement ON agreements (engagement_id);

CREATE TABLE estimates (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    labour_hours {real} NOT NULL,
    labour_cost_yen {int} NOT NULL,
    trips {int} NOT NULL,
    travel_yen {int} NOT NULL,
    consumables_yen {int} NOT NULL,
    note {text} NOT NULL DEFAULT '',
    submitted_at {int} NOT NULL,
    submitted_by {int} REFERENCES accounts (id)
);
CREATE INDEX estimates_engagement ON estimates (engagement_id);

CREATE TABLE orders (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    estimate_id {int} NOT NULL REFERENCES estimates (id),
    order_number {text} NOT NULL UNIQUE,
    issued_on {text} NOT NULL,
    amount_yen {int} NOT NULL,
    revoked_on {text},
    settled_on {text},
    settled_hours {real},
    settled_amount_yen {int},
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id)
);
CREATE INDEX orders_engagement ON orders (engagement_id);

CREATE TABLE payments (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    kind {text} NOT NULL,
    person {text} NOT NULL,
    department {text} NOT NULL DEFAULT '',
    title {text} NOT NULL DEFAULT '',
    hours {real},
    rate_yen {int},
    amount_yen {int} NOT NULL,
    paid_for_on {text} NOT NULL,
    note {text} NOT NULL DEFAULT '',
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id)
);
CREATE INDEX payments_engagement ON payments (engagement_id);

CREATE TABLE letter_templates (
    kind {text} NOT NULL,
    version {int} NOT NULL,
    body {text} NOT NULL,
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id),
    PRIMARY KEY (kind, version)
);
CREATE TABLE generated_documents (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    kind {text} NOT NULL,
    template_version {int} NOT NULL,
    file_id {int} NOT NULL REFERENCES files (id),
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id)
);
CREATE INDEX generated_documents_engagement ON generated_documents (engagement_id);

-- Notifications keep their facts (kind and JSON parameters), not their
-- text: each reader sees them in their own language, mail included.
CREATE TABLE notifications (
    id {id},
    account_id {int} NOT NULL REFERENCES accounts (id),
    engagement_id {int} REFERENCES engagements (id),
    kind {text} NOT NULL,
    params {text} NOT NULL,
    dedupe_key {text} NOT NULL,
    created_at {int} NOT NULL,
    read_at {int},
    UNIQUE (account_id, dedupe_key)
);
CREATE INDEX notifications_account ON notifications (account_id, read_at);
CREATE TABLE mail_outbox (
    id {id},
    notification_id {int} NOT NULL REFERENCES notifications (id),
    to_address {text} NOT NULL,
    created_at {int} NOT NULL,
    claimed_until {int} NOT NULL DEFAULT 0,
    sent_at {int},
    attempts {int} NOT NULL DEFAULT 0,
    last_error {text} NOT NULL DEFAULT ''
);
CREATE INDEX mail_outbox_unsent ON mail_outbox (sent_at, claimed_until);
