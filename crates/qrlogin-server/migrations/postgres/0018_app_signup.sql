-- Login-only or sign-up (issue 15 item 4): with signup on, a new user may register on the phone
-- page. Off by default (login only).
ALTER TABLE apps ADD COLUMN signup BOOLEAN NOT NULL DEFAULT FALSE;
