-- Whether the holding room lists an item's format among its export formats (issue 14): `false` flags a format
-- the room does not export (mistyped, or the room's record is out of date); null when the room lists none, and
-- for items registered before this change.
ALTER TABLE evidence_items ADD COLUMN format_listed boolean;
