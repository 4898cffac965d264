-- The sweep also deletes sessions whose ticket was spent (src/store/sqlite.rs purge_sessions).
CREATE INDEX qr_sessions_ticket_used_at ON qr_sessions(ticket_used_at)
    WHERE ticket_used_at IS NOT NULL;
