-- Rotating QRs (issue 15): a waiting QR's public id changes this often; 0 = never.
ALTER TABLE apps ADD COLUMN qr_rotate_secs INTEGER NOT NULL DEFAULT 30;
