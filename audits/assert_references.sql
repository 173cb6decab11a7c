AUDIT (
  name assert_references
);

/* Referential integrity: every non-NULL @column of the audited model exists in @parent.@parent_column.
   Each returned row is an orphan: its key and the parent it was looked up in. */
SELECT
  child.@column AS orphan_key,
  @as_text(@parent) AS missing_from_parent
FROM @this_model AS child
LEFT JOIN @parent AS parent
  ON parent.@parent_column = child.@column
WHERE
  NOT child.@column IS NULL AND parent.@parent_column IS NULL
