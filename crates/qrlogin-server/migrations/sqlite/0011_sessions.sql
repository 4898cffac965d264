-- Issue 11: server-side sessions (every phone sign-in and every QR exchange), their rotating
-- refresh tokens (stored as SHA-256 only), per-app access-token lifetime, disabled users, and the
-- login history. Times are Unix milliseconds. Same tables in migrations/postgres/0011_sessions.sql.
ALTER TABLE apps ADD COLUMN access_ttl_secs INTEGER NOT NULL DEFAULT 3600;
ALTER TABLE users ADD COLUMN disabled_at INTEGER;

CREATE TABLE auth_sessions (
    id            TEXT PRIMARY KEY NOT NULL,  -- the `sid` every token of the session carries
    user_id       TEXT NOT NULL REFERENCES users(id),
    app_id        TEXT NOT NULL,              -- the app, or the pool id (approval page)
    kind          TEXT NOT NULL,              -- approver | desktop
    public_client INTEGER NOT NULL DEFAULT 0, -- made without the app secret (PKCE, client exchange)
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    device        TEXT,                       -- the requester's device name, as it said
    ip            TEXT                        -- the address the session was made from
);
CREATE INDEX auth_sessions_user ON auth_sessions(user_id);
CREATE INDEX auth_sessions_expires_at ON auth_sessions(expires_at);

CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY NOT NULL,     -- hex SHA-256 of the opaque token
    session_id TEXT NOT NULL REFERENCES auth_sessions(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    spent_at   INTEGER                        -- set by the rotation that used it; reuse ends the session
);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);

CREATE TABLE login_history (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT,                        -- NULL for a sign-in attempt of an unknown username
    username     TEXT NOT NULL,
    app_id       TEXT NOT NULL,
    event        TEXT NOT NULL,               -- sign-in | qr-confirm | qr-cancel
    success      INTEGER NOT NULL,
    outcome      TEXT NOT NULL,               -- signed-in | wrong-password | disabled | authorized | cancelled | wrong-check-code
    device       TEXT,
    requester_ip TEXT,
    approver_ip  TEXT,
    at           INTEGER NOT NULL
);
CREATE INDEX login_history_user_at ON login_history(user_id, at);
CREATE INDEX login_history_at ON login_history(at);
