DROP TABLE IF EXISTS map_cuts;
DROP TABLE IF EXISTS map_location_history;
DROP TABLE IF EXISTS map_units;
DROP TABLE IF EXISTS map_locations;
-- The extensions stay: other databases objects may use them, and dropping
-- postgis needs a superuser.
