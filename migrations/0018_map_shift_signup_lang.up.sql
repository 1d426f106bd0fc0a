-- The language a volunteer signed up in (the public pages are English and
-- French): their confirmation and cancellation emails are written in it.
-- Signups made before this column, by a logged-in volunteer without a
-- choice, or by an admin, are English.
ALTER TABLE map_shift_signups
    ADD COLUMN lang text NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'fr'));
