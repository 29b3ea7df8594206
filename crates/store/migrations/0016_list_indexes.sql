-- The engagement table's filters at national scale (8,000 hospitals): by
-- state, and by the hospital's prefecture. Without them every filtered
-- page counted and sorted the whole table.
CREATE INDEX engagements_state ON engagements (state);
CREATE INDEX organisations_prefecture ON organisations (prefecture);
