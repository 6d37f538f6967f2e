"""The SQLite archive: schema and migrations (`schema`), article writes (`articles`), crawl runs
(`runs`) and the write lock (`lock`). Imports nothing of extraction."""
