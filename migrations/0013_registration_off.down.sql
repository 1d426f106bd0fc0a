ALTER TABLE site_settings ALTER COLUMN allow_registration SET DEFAULT true;
