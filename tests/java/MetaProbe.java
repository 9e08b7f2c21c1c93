import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Result-set metadata and values as a JDBC application reads them (tests/test_clients_metadata.py):
 * one query through a plain statement, a client-side prepared statement and (with
 * useServerPrepStmts=true) a server-side one, which the server answers in MySQL's binary protocol.
 * Prints one "key<TAB>value" line per fact.
 *
 * Usage: java -cp driver.jar:. MetaProbe URL USER PASSWORD QUERY_WITH_ONE_PARAMETER PARAMETER
 * URL has no query string of its own.
 */
public final class MetaProbe {
    private static void out(String key, Object value) {
        String text = String.valueOf(value).replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t");
        System.out.println(key + "\t" + text);
    }

    private static String nullability(int value) {
        switch (value) {
            case ResultSetMetaData.columnNoNulls:
                return "NO_NULLS";
            case ResultSetMetaData.columnNullable:
                return "NULLABLE";
            default:
                return "UNKNOWN";
        }
    }

    private static void describe(String key, ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        for (int i = 1; i <= md.getColumnCount(); i++) {
            String col = key + "." + md.getColumnLabel(i);
            out(col + ".type", md.getColumnTypeName(i) + " " + md.getColumnType(i));
            out(col + ".class", md.getColumnClassName(i));
            out(col + ".precision", md.getPrecision(i));
            out(col + ".scale", md.getScale(i));
            out(col + ".nullable", nullability(md.isNullable(i)));
            out(col + ".table", md.getCatalogName(i) + "." + md.getTableName(i));
            out(col + ".name", md.getColumnName(i));
        }
        int row = 0;
        while (rs.next()) {
            for (int i = 1; i <= md.getColumnCount(); i++) {
                String col = key + ".row" + row + "." + md.getColumnLabel(i);
                out(col, rs.getString(i));
                Object value = rs.getObject(i);
                out(col + ".object", value == null ? "NULL" : value.getClass().getSimpleName() + ":" + value);
            }
            row++;
        }
        out(key + ".rows", row);
        rs.close();
    }

    private static void run(String key, Connection conn, String query, String parameter) {
        try {
            try (Statement st = conn.createStatement()) {
                describe(key + ".text", st.executeQuery(query.replace("?", "'" + parameter + "'")));
            }
            try (PreparedStatement ps = conn.prepareStatement(query)) {
                ps.setString(1, parameter);
                describe(key + ".prepared", ps.executeQuery());
            }
        } catch (SQLException e) {
            out(key + ".error", e.getErrorCode() + " " + e.getSQLState() + " " + e.getMessage());
        }
    }

    public static void main(String[] args) throws Exception {
        String url = args[0], user = args[1], password = args[2], query = args[3], parameter = args[4];
        try (Connection conn = DriverManager.getConnection(url, user, password)) {
            run("client", conn, query, parameter);
        }
        String server = url + (url.contains("?") ? "&" : "?") + "useServerPrepStmts=true";
        try (Connection conn = DriverManager.getConnection(server, user, password)) {
            run("server", conn, query, parameter);
        }
        out("done", "true");
    }
}
