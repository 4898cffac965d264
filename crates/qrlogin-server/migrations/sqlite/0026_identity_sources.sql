-- Issue 15 items 5 and 6: identity sources (a company's own WeChat mini-program), the external
-- identities bound to users, and account links waiting for the user's password (`--link ask`).
-- Times are Unix milliseconds. Same tables in migrations/postgres/0026_identity_sources.sql.
CREATE TABLE identity_sources (
    id         TEXT PRIMARY KEY NOT NULL,  -- `extIdpConnidentifier`
    kind       TEXT NOT NULL,              -- wechat-miniprogram
    app_id     TEXT NOT NULL,              -- the mini-program's AppID (the watermark's appid)
    app_secret TEXT NOT NULL,              -- its AppSecret, kept like apps.app_secret
    link       TEXT NOT NULL DEFAULT 'none', -- none | match-phone | match-email | ask
    created_at INTEGER NOT NULL
);

CREATE TABLE external_identities (
    source_id  TEXT NOT NULL REFERENCES identity_sources(id),
    subject    TEXT NOT NULL,              -- the openid jscode2session named
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (source_id, subject)
);
CREATE INDEX external_identities_user ON external_identities(user_id);

CREATE TABLE pending_links (
    id         TEXT PRIMARY KEY NOT NULL,  -- the id in the link page's URL
    source_id  TEXT NOT NULL REFERENCES identity_sources(id),
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id),
    phone      TEXT,                       -- the verified phone that matched (masked on the page)
    expires_at INTEGER NOT NULL,
    done_at    INTEGER                     -- set by the one confirmation that linked
);
CREATE INDEX users_phone ON users(phone);
