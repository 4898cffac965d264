-- The shared schema: the same tables as migrations/sqlite/0001_init.sql, so that every instance
-- behind a load balancer sees one user pool, one signing key (table meta), the same apps, users,
-- QR sessions and tickets. Times are Unix milliseconds, as in SQLite, so the Rust side is the
-- same for both backends. Status transitions are conditional UPDATEs (src/store/postgres.rs).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE apps (
    -- Insertion order breaks ties of created_at (SQLite uses its rowid): the first app made is
    -- the pool's default app, and it must be the same on every instance.
    seq                   BIGINT GENERATED ALWAYS AS IDENTITY,
    app_id                TEXT PRIMARY KEY NOT NULL,
    app_secret            TEXT NOT NULL,
    name                  TEXT NOT NULL,
    redirect_url          TEXT,
    allow_client_exchange BOOLEAN NOT NULL DEFAULT FALSE,
    return_full_user_info BOOLEAN NOT NULL DEFAULT FALSE,
    qr_ttl_secs           BIGINT NOT NULL DEFAULT 120,
    ticket_ttl_secs       BIGINT NOT NULL DEFAULT 300,
    qr_payload            TEXT NOT NULL DEFAULT 'url',
    check_code            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            BIGINT NOT NULL
);

CREATE TABLE users (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY,
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    nickname      TEXT,
    email         TEXT,
    phone         TEXT,
    photo         TEXT,
    created_at    BIGINT NOT NULL,
    logins_count  BIGINT NOT NULL DEFAULT 0,
    last_login    BIGINT,
    last_ip       TEXT
);

CREATE TABLE qr_sessions (
    handle            TEXT PRIMARY KEY NOT NULL, -- `random` (G1, G3) or `qrcodeId` (G2, G4)
    scan_id           TEXT NOT NULL UNIQUE,      -- what the QR carries in `url` mode
    generation        TEXT NOT NULL,
    app_id            TEXT NOT NULL REFERENCES apps(app_id),
    status            TEXT NOT NULL,             -- pending | scanned | authorized | cancelled
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    scanned_by        TEXT REFERENCES users(id),
    scanned_at        BIGINT,
    decided_at        BIGINT,
    ticket            TEXT UNIQUE,
    ticket_expires_at BIGINT,
    ticket_used_at    BIGINT,
    code_challenge    TEXT,
    check_code        TEXT,
    check_choices     TEXT,                      -- JSON array of two-digit strings
    requester         TEXT,                      -- JSON object, see model::Requester
    custom_data       TEXT,                      -- JSON
    qr_content        TEXT NOT NULL
);

-- The sweep looks sessions up by when they ended: by QR expiry, and by ticket spending.
CREATE INDEX qr_sessions_expires_at ON qr_sessions(expires_at);
CREATE INDEX qr_sessions_ticket_used_at ON qr_sessions(ticket_used_at)
    WHERE ticket_used_at IS NOT NULL;
