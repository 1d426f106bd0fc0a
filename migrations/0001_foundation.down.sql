DROP TABLE site_settings;
DROP TABLE refresh_tokens;
DROP TABLE users;
