"""Run inside Superset's own venv (scripts/test-deps.sh makes it): Superset's Doris engine spec, through
the doris:// URI, reads the catalogs, schemas, tables and columns of a dorisbk server and runs a chart's
query. Prints one JSON object. Arguments: port, database, table, the chart's SQL."""

import json
import os
import sys
import tempfile
from pathlib import Path


def main() -> None:
    port, schema, table, sql = sys.argv[1:5]
    work = Path(tempfile.mkdtemp(prefix="superset-"))
    config = work / "superset_config.py"
    cache = '{"CACHE_TYPE": "NullCache"}'
    config.write_text(
        'SECRET_KEY = "tests-only-not-a-secret"\n'
        f'SQLALCHEMY_DATABASE_URI = "sqlite:///{work / "superset.db"}"\n'
        f"CACHE_CONFIG = DATA_CACHE_CONFIG = FILTER_STATE_CACHE_CONFIG = {cache}\n"
        f"EXPLORE_FORM_DATA_CACHE_CONFIG = THUMBNAIL_CACHE_CONFIG = {cache}\n"
    )
    os.environ["SUPERSET_CONFIG_PATH"] = str(config)
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import db
        from superset.models.core import Database
        from superset.sql.parse import Table

        db.create_all()
        database = Database(database_name="dorisbk", sqlalchemy_uri=f"doris://root@127.0.0.1:{port}/internal.{schema}")
        frame = database.get_df(sql, catalog="internal", schema=schema)
        found = {
            "engine": database.db_engine_spec.engine,
            "catalogs": sorted(database.get_all_catalog_names()),
            "schemas": sorted(database.get_all_schema_names(catalog="internal")),
            "tables": sorted(
                name for name, *_ in database.get_all_table_names_in_schema(catalog="internal", schema=schema)
            ),
            "columns": [
                (c["column_name"], str(c["type"])) for c in database.get_columns(Table(table, schema, "internal"))
            ],
            "rows": [[str(v) for v in row] for row in frame.itertuples(index=False)],
        }
    print(json.dumps(found))


if __name__ == "__main__":
    main()
