-- Background work of `mamori serve` (deadline checks, escalations): when
-- several instances share one database, each run of a job is claimed by
-- moving `next_run_at` forward in one conditional update, so exactly one
-- instance runs it per period. `runs` and `last_instance` show who did.
CREATE TABLE background_jobs (
    name {text} PRIMARY KEY,
    next_run_at {int} NOT NULL,
    last_run_at {int},
    last_instance {text},
    runs {int} NOT NULL DEFAULT 0
);
