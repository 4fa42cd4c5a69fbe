-- Service-level reports, kept as made: the figures of a period as they were
-- computed (JSON), so that what was sent to the Region can be shown again
-- exactly. One report per kind and period.
CREATE TABLE sla_reports (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT    NOT NULL,
    period_from TEXT    NOT NULL,
    period_to   TEXT    NOT NULL,
    profile     TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    UNIQUE (kind, period_from)
);
