-- Self-registration is off unless an admin turns it on (settings
-- allowRegistration, PATCH /api/settings): an anonymous POST
-- /api/auth/register used to create an ACTIVE user on every fresh install.
-- Installs that had it on (the old default) are switched off too: whoever
-- wants it turns it on again, knowingly.
ALTER TABLE site_settings ALTER COLUMN allow_registration SET DEFAULT false;
UPDATE site_settings SET allow_registration = false;
