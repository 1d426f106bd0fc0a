ALTER TABLE map_shift_signups DROP COLUMN IF EXISTS lang;
