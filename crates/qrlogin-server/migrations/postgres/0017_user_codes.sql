-- Typed codes (issue 15 item 7): the short user code of every QR session, typed at
-- {public-url}/s in place of scanning. Kept apart from qr_sessions: a code only names a scan id.
CREATE TABLE qr_user_codes (
    code       TEXT PRIMARY KEY,
    scan_id    TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX qr_user_codes_expires_at ON qr_user_codes (expires_at);
