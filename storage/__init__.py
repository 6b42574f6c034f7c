"""The data store under DATA_DIR: one database whose schema grows by numbered migrations.

Each version is one plain SQL file, `migrations/<engine>/NNNN_<what>.sql`; a database records the versions it has
had applied in its `schema_migrations` table, so an old `data/` is brought up to date when it is opened. Another
engine (PostgreSQL) follows the same numbering with its own files.
"""
