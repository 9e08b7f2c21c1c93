import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Back up a table from Java with JDBC and follow the job, as a Doris user would.
 *
 * Compile and run with either driver (see README.md in this folder):
 *   javac BackupExample.java
 *   java -cp .:/usr/share/java/mariadb-java-client.jar BackupExample "jdbc:mariadb://127.0.0.1:9030/" root ""
 *   java -cp .:mysql-connector-j-8.0.33.jar BackupExample "jdbc:mysql://127.0.0.1:9030/?sslMode=PREFERRED" root ""
 * An optional fourth argument is the repository directory (default /tmp/dorisbk_jdbc_repo).
 */
public final class BackupExample {
    private static final String DB = "jdbc_example";
    private static final String REPO = "jdbc_example_repo";

    public static void main(String[] args) throws Exception {
        String url = args[0], user = args[1], password = args.length > 2 ? args[2] : "";
        String repoDir = args.length > 3 ? args[3] : "/tmp/dorisbk_jdbc_repo";
        try (Connection conn = DriverManager.getConnection(url, user, password);
             Statement st = conn.createStatement()) {
            System.out.println("connected to " + conn.getMetaData().getDatabaseProductVersion());

            st.execute("DROP DATABASE IF EXISTS " + DB + " FORCE");
            st.execute("CREATE DATABASE " + DB);
            st.execute("CREATE TABLE " + DB + ".visits (day DATE, site VARCHAR(64), pv BIGINT) "
                    + "DUPLICATE KEY(day) DISTRIBUTED BY HASH(day) BUCKETS 2");
            try (PreparedStatement insert = conn.prepareStatement("INSERT INTO " + DB + ".visits VALUES (?, ?, ?)")) {
                String[][] rows = {{"2024-05-01", "example.com", "120"}, {"2024-05-02", "o'reilly.com", "75"}};
                for (String[] row : rows) {
                    insert.setString(1, row[0]);
                    insert.setString(2, row[1]);
                    insert.setLong(3, Long.parseLong(row[2]));
                    insert.executeUpdate();
                }
            }

            boolean exists = false;
            try (ResultSet rs = st.executeQuery("SHOW REPOSITORIES")) {
                while (rs.next()) {
                    exists |= REPO.equals(rs.getString("RepoName"));
                }
            }
            if (!exists) {
                st.execute("CREATE REPOSITORY " + REPO + " WITH LOCAL ON LOCATION \"file://" + repoDir + "\"");
            }

            String label = "visits_" + System.currentTimeMillis();
            st.execute("BACKUP SNAPSHOT " + DB + "." + label + " TO " + REPO + " ON (visits)");
            String state = "";
            for (int i = 0; i < 600 && !state.equals("FINISHED") && !state.equals("CANCELLED"); i++) {
                try (ResultSet rs = st.executeQuery(
                        "SHOW BACKUP FROM " + DB + " WHERE SnapshotName = \"" + label + "\"")) {
                    if (rs.next()) {
                        state = rs.getString("State");
                        System.out.println("job " + rs.getString("JobId") + ": " + state + " " + rs.getString("Progress"));
                    }
                }
                Thread.sleep(200);
            }
            try (ResultSet rs = st.executeQuery("SHOW SNAPSHOT ON " + REPO + " WHERE SNAPSHOT = \"" + label + "\"")) {
                while (rs.next()) {
                    System.out.println("snapshot " + rs.getString("Snapshot") + " at " + rs.getString("Timestamp")
                            + ": " + rs.getString("Status"));
                }
            }
            try {
                st.execute("BACKUP SNAPSHOT " + DB + "." + label + " TO no_such_repo");
            } catch (SQLException e) {
                System.out.println("expected error " + e.getErrorCode() + " (" + e.getSQLState() + "): "
                        + e.getMessage());
            }
            System.out.println(state.equals("FINISHED") ? "backup finished" : "backup did not finish: " + state);
        }
    }
}
