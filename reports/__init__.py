"""Reports for auditors: each builds its data from the store, separately from its rendering."""
