-- The supervisor's review talk on the deliverables of an engagement
-- (mamori_domain::deliverable::discussion): comment threads anchored to a
-- deliverable, optionally to one row of its frozen content and to a
-- version, and deep-dive requests (深掘り依頼) with a due date. Every step
-- is kept as a row: nothing is edited in place but the state.
-- Instants are epoch ms, dates ISO text (YYYY-MM-DD); accounts are ids.

-- kind: the deliverable (checklist-executive … structure); row_key: the
-- row of the frozen content ('' = the whole deliverable); version: NULL =
-- any version. state: open, resolved.
CREATE TABLE review_threads (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    kind {text} NOT NULL,
    row_key {text} NOT NULL DEFAULT '',
    version {int},
    state {text} NOT NULL,
    created_by {int} REFERENCES accounts (id),
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL
);
CREATE INDEX review_threads_engagement ON review_threads (engagement_id, id);

-- action: open (the first comment), reply, resolve, reopen. body may be
-- empty for resolve/reopen by the supervisor.
CREATE TABLE review_comments (
    id {id},
    thread_id {int} NOT NULL REFERENCES review_threads (id),
    action {text} NOT NULL,
    author_id {int} REFERENCES accounts (id),
    at {int} NOT NULL,
    body {text} NOT NULL
);
CREATE INDEX review_comments_thread ON review_comments (thread_id, id);

-- state: requested, answered, closed. due_on: ISO date.
CREATE TABLE deep_dives (
    id {id},
    engagement_id {int} NOT NULL REFERENCES engagements (id),
    kind {text} NOT NULL,
    row_key {text} NOT NULL DEFAULT '',
    version {int},
    due_on {text} NOT NULL,
    state {text} NOT NULL,
    requested_by {int} REFERENCES accounts (id),
    requested_at {int} NOT NULL,
    updated_at {int} NOT NULL
);
CREATE INDEX deep_dives_engagement ON deep_dives (engagement_id, id);
CREATE INDEX deep_dives_state ON deep_dives (state, due_on);

-- action: request, answer, close, send-back; text: what was said.
CREATE TABLE deep_dive_steps (
    id {id},
    deep_dive_id {int} NOT NULL REFERENCES deep_dives (id),
    action {text} NOT NULL,
    actor_id {int} REFERENCES accounts (id),
    at {int} NOT NULL,
    body {text} NOT NULL
);
CREATE INDEX deep_dive_steps_deep_dive ON deep_dive_steps (deep_dive_id, id);
