ALTER TABLE map_import_parts DROP COLUMN slot_rows_done;
