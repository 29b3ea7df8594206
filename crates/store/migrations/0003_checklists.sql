-- Checklist hearings: versioned checklist frameworks (the MHLW editions,
-- imported workbooks, a programme's own items), respondents and their
-- self-assessments, hearings with the surveyor's confirmed answers,
-- material requests (宿題) and vendor inquiries.
-- Dates without a time of day are ISO text (YYYY-MM-DD), instants epoch ms.

-- A framework is kept whole as JSON (mamori_domain::checklist::Framework);
-- answers name the framework, the item number and the scope.
CREATE TABLE checklist_frameworks (
    id {id},
    key {text} NOT NULL,
    version {int} NOT NULL,
    title_ja {text} NOT NULL,
    edition_ja {text} NOT NULL,
    origin {text} NOT NULL,
    programme_id {int} REFERENCES programmes (id),
    definition {text} NOT NULL,
    sha256 {text} NOT NULL,
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id),
    UNIQUE (key, version)
);

-- The framework a programme's engagements answer, and its own supplement.
ALTER TABLE programmes ADD COLUMN checklist_framework_id {int} REFERENCES checklist_frameworks (id);
ALTER TABLE programmes ADD COLUMN checklist_supplement_id {int} REFERENCES checklist_frameworks (id);

-- A person answering one form for one engagement: with an account of the
-- hospital, or through a link (only its hash is kept).
CREATE TABLE checklist_respondents (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    framework_id {int} NOT NULL REFERENCES checklist_frameworks (id),
    form_key {text} NOT NULL,
    role {text} NOT NULL,
    name {text} NOT NULL,
    account_id {int} REFERENCES accounts (id),
    link_hash {text} UNIQUE,
    link_expires_at {int},
    submitted_at {int},
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id)
);
CREATE INDEX checklist_respondents_engagement ON checklist_respondents (engagement_id);

CREATE TABLE checklist_answers (
    id {id},
    respondent_id {int} NOT NULL REFERENCES checklist_respondents (id),
    framework_id {int} NOT NULL REFERENCES checklist_frameworks (id),
    item_number {text} NOT NULL,
    scope {text} NOT NULL,
    value {text} NOT NULL,
    checked_on {text},
    target_on {text},
    not_understood {text} NOT NULL DEFAULT '',
    updated_at {int} NOT NULL,
    updated_by {int} REFERENCES accounts (id),
    UNIQUE (respondent_id, framework_id, item_number, scope)
);

CREATE TABLE hearings (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    held_on {text} NOT NULL,
    notes {text} NOT NULL DEFAULT '',
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id)
);
CREATE INDEX hearings_engagement ON hearings (engagement_id);
CREATE TABLE hearing_participants (
    hearing_id {int} NOT NULL REFERENCES hearings (id),
    ordinal {int} NOT NULL,
    respondent_id {int} REFERENCES checklist_respondents (id),
    name {text} NOT NULL,
    minutes {int} NOT NULL,
    PRIMARY KEY (hearing_id, ordinal)
);

-- The surveyor's confirmed answer; the latest row of a cell counts, earlier
-- ones stay as the record of earlier hearings.
CREATE TABLE checklist_confirmations (
    id {id},
    hearing_id {int} NOT NULL REFERENCES hearings (id),
    respondent_id {int} NOT NULL REFERENCES checklist_respondents (id),
    framework_id {int} NOT NULL REFERENCES checklist_frameworks (id),
    item_number {text} NOT NULL,
    scope {text} NOT NULL,
    value {text},
    is_open {int} NOT NULL,
    note {text} NOT NULL DEFAULT '',
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id)
);
CREATE INDEX checklist_confirmations_respondent ON checklist_confirmations (respondent_id, framework_id, item_number, scope);

-- 宿題: due a week after the hearing; past due it lapses to not-submitted
-- and keeps lapsed_on even if the material arrives later.
CREATE TABLE material_requests (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    hearing_id {int} REFERENCES hearings (id),
    subject {text} NOT NULL,
    party {text} NOT NULL,
    vendor_name {text} NOT NULL DEFAULT '',
    requested_on {text} NOT NULL,
    due_on {text} NOT NULL,
    status {text} NOT NULL,
    lapsed_on {text},
    received_on {text},
    file_id {int} REFERENCES files (id),
    note {text} NOT NULL DEFAULT '',
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id)
);
CREATE INDEX material_requests_engagement ON material_requests (engagement_id);
CREATE INDEX material_requests_open ON material_requests (status, due_on);

-- A question to a vendor, only with the hospital's consent; the vendor
-- answers once through a link that expires (only its hash is kept).
CREATE TABLE vendor_inquiries (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    vendor_name {text} NOT NULL,
    vendor_contact {text} NOT NULL DEFAULT '',
    question {text} NOT NULL,
    consent_given_by {text} NOT NULL,
    consent_on {text} NOT NULL,
    requested_on {text} NOT NULL,
    due_on {text} NOT NULL,
    link_hash {text} NOT NULL UNIQUE,
    link_expires_at {int} NOT NULL,
    status {text} NOT NULL,
    lapsed_on {text},
    answered_at {int},
    answer {text} NOT NULL DEFAULT '',
    file_id {int} REFERENCES files (id),
    created_at {int} NOT NULL,
    created_by {int} REFERENCES accounts (id)
);
CREATE INDEX vendor_inquiries_engagement ON vendor_inquiries (engagement_id);
CREATE INDEX vendor_inquiries_open ON vendor_inquiries (status, due_on);
