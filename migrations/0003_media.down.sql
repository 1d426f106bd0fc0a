DROP TABLE IF EXISTS media_reactions;
DROP TABLE IF EXISTS media_shared;
DROP TABLE IF EXISTS media_videos;
