-- App logos (issue 15): a re-encoded PNG, served at /logos/{app_id}.png.
ALTER TABLE apps ADD COLUMN logo_png BYTEA;
