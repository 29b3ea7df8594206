-- Advisories as imported (mamori_advisories::Advisory, kept whole as
-- JSON), one row per source and id, and every id they are known by so a
-- CVE finds its JVN and CSAF records. Instants are epoch ms.
CREATE TABLE advisories (
    id {id},
    source {text} NOT NULL,
    external_id {text} NOT NULL,
    content {text} NOT NULL,
    content_sha256 {text} NOT NULL,
    imported_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    UNIQUE (source, external_id)
);

CREATE TABLE advisory_aliases (
    id {id},
    advisory_id {int} NOT NULL REFERENCES advisories (id),
    alias {text} NOT NULL,
    UNIQUE (advisory_id, alias)
);
CREATE INDEX advisory_aliases_alias ON advisory_aliases (alias);
