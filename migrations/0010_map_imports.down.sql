DROP TABLE IF EXISTS map_import_parts;
DROP TABLE IF EXISTS map_imports;
