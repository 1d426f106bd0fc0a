DROP TABLE IF EXISTS map_canvass_track_points;
DROP TABLE IF EXISTS map_canvass_visits;
DROP TABLE IF EXISTS map_canvass_sessions;
DROP TABLE IF EXISTS map_shift_emails;
DROP TABLE IF EXISTS map_shift_signups;
DROP TABLE IF EXISTS map_shifts;
DROP TABLE IF EXISTS map_shift_series;
