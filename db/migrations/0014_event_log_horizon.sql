-- An event log a partner can reconcile against (issue 14). `GET /v1/events` walks events with a cursor; a
-- position is taken when an event is written, not when its transaction commits, so walking by position alone
-- skips for ever an event whose transaction took a lower position and committed after a higher one was read.
--
-- Each event records the id of the transaction that wrote it. A list shows only events whose transaction is
-- older than every transaction still running (`pg_snapshot_xmin`): those transactions have all ended, so the
-- set shown can only grow at its end, in (xact, position) order. A later event always has a transaction id at
-- least that horizon, so it sorts after every event already shown. The price: an event appears once every
-- transaction that began before its own has ended, which for this service's short transactions is at once.
ALTER TABLE events ADD COLUMN xact xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_log ON events (xact, position);
