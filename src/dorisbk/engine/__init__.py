"""The query engine's Doris semantics: types on the tree, the function catalog, DuckDB SQL from both."""
