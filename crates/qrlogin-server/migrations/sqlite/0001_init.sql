-- The embedded schema. Times are Unix milliseconds. Status transitions are conditional UPDATEs
-- (see src/store/sqlite.rs), so a second backend only has to offer the same compare-and-set.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE apps (
    app_id                TEXT PRIMARY KEY NOT NULL,
    app_secret            TEXT NOT NULL,
    name                  TEXT NOT NULL,
    redirect_url          TEXT,
    allow_client_exchange INTEGER NOT NULL DEFAULT 0,
    return_full_user_info INTEGER NOT NULL DEFAULT 0,
    qr_ttl_secs           INTEGER NOT NULL DEFAULT 120,
    ticket_ttl_secs       INTEGER NOT NULL DEFAULT 300,
    qr_payload            TEXT NOT NULL DEFAULT 'url',
    check_code            INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    nickname      TEXT,
    email         TEXT,
    phone         TEXT,
    photo         TEXT,
    created_at    INTEGER NOT NULL,
    logins_count  INTEGER NOT NULL DEFAULT 0,
    last_login    INTEGER,
    last_ip       TEXT
);

CREATE TABLE qr_sessions (
    handle            TEXT PRIMARY KEY NOT NULL, -- `random` (G1, G3) or `qrcodeId` (G2, G4)
    scan_id           TEXT NOT NULL UNIQUE,      -- what the QR carries in `url` mode
    generation        TEXT NOT NULL,
    app_id            TEXT NOT NULL REFERENCES apps(app_id),
    status            TEXT NOT NULL,             -- pending | scanned | authorized | cancelled
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    scanned_by        TEXT REFERENCES users(id),
    scanned_at        INTEGER,
    decided_at        INTEGER,
    ticket            TEXT UNIQUE,
    ticket_expires_at INTEGER,
    ticket_used_at    INTEGER,
    code_challenge    TEXT,
    check_code        TEXT,
    check_choices     TEXT,                      -- JSON array of two-digit strings
    requester         TEXT,                      -- JSON object, see model::Requester
    custom_data       TEXT,                      -- JSON
    qr_content        TEXT NOT NULL
);

CREATE INDEX qr_sessions_expires_at ON qr_sessions(expires_at);
