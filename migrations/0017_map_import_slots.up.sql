-- Parallel loading (IMPORT_LOADERS): a NAR part is loaded by several
-- connections at once, each taking the buildings whose LOC_GUID falls in
-- its slot, so that no two of them ever write the same building. Each slot
-- remembers how many of the file's data rows it has consumed in committed
-- batches (element i for slot i, 1-based); a task that runs again resumes
-- every slot after its own last batch. Empty until a part's first load
-- fixes its number of slots; rows_done is then the smallest of them.
ALTER TABLE map_import_parts ADD COLUMN slot_rows_done bigint[] NOT NULL DEFAULT '{}';
