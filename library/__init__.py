"""The document library: stored documents with their pages and passages, the full-text index that finds passages,
and collections. No Flask here; what a request may do with the library is in routes/, what a job does in tasks/."""
