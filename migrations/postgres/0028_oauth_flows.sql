-- Twin of migrations/0028_oauth_flows.sql: sign-ins in flight, seen by every replica.
CREATE TABLE oauth_flows (
    id         TEXT COLLATE "C" PRIMARY KEY,
    kind       TEXT COLLATE "C" NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL,
    target     TEXT COLLATE "C" NOT NULL,
    state      TEXT COLLATE "C" NOT NULL UNIQUE,
    status     TEXT COLLATE "C" NOT NULL,
    error      TEXT COLLATE "C",
    secret     TEXT COLLATE "C",
    started_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_flows_expiry ON oauth_flows (expires_at);

CREATE TABLE oauth_binds (
    user_id    TEXT COLLATE "C" NOT NULL,
    target     TEXT COLLATE "C" NOT NULL,
    digest     TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, target)
);
CREATE INDEX oauth_binds_expiry ON oauth_binds (expires_at);
