-- Insertion order as a column (issue 14): apps and users get `seq`, as in PostgreSQL, so both
-- backends share one SQL text that breaks ties of created_at with `ORDER BY created_at, seq`
-- (the first app made is the pool's default app). Existing rows keep the order their rowid gave;
-- a trigger numbers each new row after every row there is (not from rowid: VACUUM may renumber
-- rowids of tables without an INTEGER PRIMARY KEY, seq stays).
ALTER TABLE apps ADD COLUMN seq INTEGER;
UPDATE apps SET seq = rowid;
CREATE INDEX apps_seq ON apps(seq);
CREATE TRIGGER apps_seq_on_insert AFTER INSERT ON apps WHEN NEW.seq IS NULL
BEGIN
    UPDATE apps SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM apps) WHERE rowid = NEW.rowid;
END;

ALTER TABLE users ADD COLUMN seq INTEGER;
UPDATE users SET seq = rowid;
CREATE INDEX users_seq ON users(seq);
CREATE TRIGGER users_seq_on_insert AFTER INSERT ON users WHEN NEW.seq IS NULL
BEGIN
    UPDATE users SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM users) WHERE rowid = NEW.rowid;
END;
