import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs every JDBC check of tests/test_clients_jdbc.py in one JVM against a dorisbk server and
 * prints one "key<TAB>value" line per fact; the Python test compares them.
 *
 * Usage: java -cp driver.jar:. Probe URL USER PASSWORD DB REPO LABEL TLS_URL|-
 * URL has no query string of its own; the probe appends the options it needs.
 */
public final class Probe {
    private static void out(String key, Object value) {
        String text = String.valueOf(value).replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t");
        System.out.println(key + "\t" + text);
    }

    private static String withOption(String url, String option) {
        return url + (url.contains("?") ? "&" : "?") + option;
    }

    private static void error(String key, Statement st, String sql) {
        try {
            st.executeQuery(sql).close();
            out(key + ".code", "no error");
        } catch (SQLException e) {
            out(key + ".code", e.getErrorCode());
            out(key + ".state", e.getSQLState());
            out(key + ".message", e.getMessage());
        }
    }

    private static void rows(String key, ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = 0;
        while (rs.next()) {
            List<String> values = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                Object v = rs.getObject(i);
                values.add(v == null ? "NULL" : v.getClass().getSimpleName() + ":" + v);
            }
            out(key + ".row" + n, String.join("|", values));
            n++;
        }
        out(key + ".rows", n);
        rs.close();
    }

    private static void prepared(String key, Connection conn, String table) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT ? AS a, ? AS b, ? AS c, ? AS d")) {
            ps.setLong(1, 9007199254740993L);
            ps.setString(2, "it's a \"quote\" and a \\ backslash");
            ps.setNull(3, Types.VARCHAR);
            ps.setString(4, "x' OR '1'='1");
            rows(key + ".literals", ps.executeQuery());
        }
        try (PreparedStatement ps = conn.prepareStatement("SELECT id, name FROM " + table + " WHERE name = ?")) {
            ps.setString(1, "b");
            rows(key + ".match", ps.executeQuery());
            ps.setString(1, "x' OR '1'='1");
            rows(key + ".injection", ps.executeQuery());
            ps.setString(1, "b'; DROP TABLE " + table + "; -- ");
            rows(key + ".injection2", ps.executeQuery());
        }
        try (PreparedStatement ps = conn.prepareStatement("SELECT count(*) FROM " + table + " WHERE id > ?")) {
            ps.setInt(1, 0);
            rows(key + ".count", ps.executeQuery());
        }
    }

    /** A DatabaseMetaData call's rows as "a:b:c" items (the named columns), or "error code state message". */
    private interface MetaCall {
        ResultSet call() throws SQLException;
    }

    private static void meta(String key, MetaCall call, String... columns) {
        try (ResultSet rs = call.call()) {
            List<String> items = new ArrayList<>();
            while (rs.next()) {
                List<String> values = new ArrayList<>();
                for (String column : columns) {
                    values.add(String.valueOf(rs.getString(column)));
                }
                items.add(String.join(":", values));
            }
            out(key, String.join(",", items));
        } catch (SQLException e) {
            out(key, "error " + e.getErrorCode() + " " + e.getSQLState() + " " + e.getMessage());
        }
    }

    /** What a BI tool's catalog browser asks of a database with a table t and a view tv (issue 12). */
    private static void metaBrowsing(DatabaseMetaData meta, String db) {
        meta("meta.viewColumns", () -> meta.getColumns(db, null, "tv", "%"),
                "COLUMN_NAME", "TYPE_NAME", "DATA_TYPE", "ORDINAL_POSITION");
        meta("meta.tablePrivileges", () -> meta.getTablePrivileges(db, null, "t"), "TABLE_NAME", "PRIVILEGE");
        meta("meta.columnPrivileges", () -> meta.getColumnPrivileges(db, null, "t", "%"), "COLUMN_NAME", "PRIVILEGE");
        meta("meta.functions", () -> meta.getFunctions(db, null, "%"), "FUNCTION_NAME");
        meta("meta.procedures", () -> meta.getProcedures(db, null, "%"), "PROCEDURE_NAME");
        meta("meta.versionColumns", () -> meta.getVersionColumns(db, null, "t"), "COLUMN_NAME");
        meta("meta.bestRowIdentifier", () -> meta.getBestRowIdentifier(db, null, "t", DatabaseMetaData.bestRowSession,
                true), "COLUMN_NAME");
        meta("meta.schemas", () -> meta.getCatalogs(), "TABLE_CAT");
    }

    public static void main(String[] args) throws Exception {
        String url = args[0], user = args[1], password = args[2], db = args[3], repo = args[4], label = args[5];
        String tlsUrl = args[6];
        String table = db + ".t";
        try (Connection conn = DriverManager.getConnection(url, user, password)) {
            DatabaseMetaData meta = conn.getMetaData();
            out("driver", meta.getDriverName() + " " + meta.getDriverVersion());
            out("product", meta.getDatabaseProductName() + " " + meta.getDatabaseProductVersion());
            out("autocommit", conn.getAutoCommit());
            Statement st = conn.createStatement();

            boolean isResult = st.execute("BACKUP SNAPSHOT " + db + "." + label + " TO " + repo + " ON (t)");
            out("backup.isResultSet", isResult);
            out("backup.updateCount", st.getUpdateCount());

            ResultSet rs = st.executeQuery("SHOW BACKUP FROM " + db + " WHERE SnapshotName = \"" + label + "\"");
            ResultSetMetaData md = rs.getMetaData();
            out("show.columns", md.getColumnCount());
            for (int i = 1; i <= md.getColumnCount(); i++) {
                out("show.col" + i, md.getColumnLabel(i) + " " + md.getColumnTypeName(i) + " "
                        + md.getColumnClassName(i));
            }
            if (rs.next()) {
                out("show.JobId", rs.getLong("JobId"));
                out("show.SnapshotName", rs.getString("SnapshotName"));
                out("show.DbName", rs.getString("DbName"));
                out("show.State", rs.getString("State"));
            }
            rs.close();

            error("error.unknownTable", st, "SELECT * FROM " + db + ".no_such_table");
            error("error.syntax", st, "SELECT * FROM WHERE");
            error("error.doris", st, "SHOW BACKUP FROM no_such_db");

            rows("select", st.executeQuery("SELECT id, name FROM " + table + " ORDER BY id"));
            prepared("prep", conn, table);

            rs = meta.getTables(db, null, "%", null);
            List<String> tables = new ArrayList<>();
            while (rs.next()) {
                tables.add(rs.getString("TABLE_NAME") + ":" + rs.getString("TABLE_TYPE"));
            }
            rs.close();
            out("meta.tables", String.join(",", tables));
            rs = meta.getColumns(db, null, "t", "%");
            List<String> columns = new ArrayList<>();
            while (rs.next()) {
                columns.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME") + ":"
                        + rs.getInt("DATA_TYPE"));
            }
            rs.close();
            out("meta.columns", String.join(",", columns));
            metaBrowsing(meta, db);
            st.close();
        }
        try (Connection conn = DriverManager.getConnection(withOption(url, "useServerPrepStmts=true"), user,
                password)) {
            prepared("sprep", conn, table);
        }
        if (!tlsUrl.equals("-")) {
            for (int i = 0; i < 3; i++) {
                try (Connection conn = DriverManager.getConnection(tlsUrl, user, password);
                     Statement st = conn.createStatement()) {
                    rows("tls" + i, st.executeQuery("SELECT count(*) FROM " + table));
                }
            }
        }
        out("done", "true");
    }
}
